/**
 * The `aws` target: each component translated into @pulumi/aws resources (kinds/*.ts), in a
 * Pulumi stack of its own, through the same executor, engine and state as the local target.
 * What the stack gives a component (its platform's VPC and cluster, roles, alerts, load
 * balancers: model/stack-infra.ts) arrives in its spec under `_stack`, resolved. Checked here,
 * before anything runs: what AWS needs beyond the schemas (an image to run, secrets in Secrets
 * Manager, subnets to be placed in). Applying needs AWS credentials and the AWS provider plugin
 * (docs/aws-target.md); the translation is tested with Pulumi's runtime mocks (mocks.ts).
 */
import { createRequire } from 'node:module';
import { DeployerError } from '../../errors.js';
import { article } from '../../util/text.js';
import type { DesiredComponent } from '../../model/desired.js';
import { CONTAINER_KINDS, STACK_INFRA_KEY, VPC_KINDS, type StackInfra } from '../../model/stack-infra.js';
import type { DescribedResources, Target, TargetContext, TargetFinding } from '../target.js';
import { TRANSLATIONS } from './kinds/index.js';
import { AwsScope, type Outputs } from './scope.js';

/** Kinds always placed in subnets: those of the VPC but a Lambda (only when its spec.network says so) and API Gateway (its VPC link's). */
const SUBNET_KINDS = new Set([...VPC_KINDS].filter((k) => k !== 'Lambda' && k !== 'APIGateway'));

/** Every secretRef of a spec, with its pointer. */
function secretRefs(value: unknown, pointer = ''): Array<{ pointer: string; provider: unknown }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretRefs(v, `${pointer}/${i}`));
  if (value === null || typeof value !== 'object') return [];
  const o = value as Record<string, unknown>;
  if (typeof o['secretRef'] === 'object' && o['secretRef'] !== null)
    return [{ pointer, provider: (o['secretRef'] as { provider?: unknown }).provider }];
  return Object.entries(o).flatMap(([k, v]) => (k === STACK_INFRA_KEY ? [] : secretRefs(v, `${pointer}/${k}`)));
}

/** The version of Pulumi's AWS provider the installed @pulumi/aws drives (its plugin must be the same). */
const AWS_PROVIDER_VERSION = (createRequire(import.meta.url)('@pulumi/aws/package.json') as { version: string }).version;

export class AwsTarget implements Target {
  readonly name = 'aws' as const;
  readonly canApply = true;
  readonly volatileOutputs: readonly string[] = [];
  readonly plugins = [{ kind: 'resource' as const, name: 'aws', version: AWS_PROVIDER_VERSION }];

  check(c: DesiredComponent): TargetFinding[] {
    const problems: TargetFinding[] = [];
    const finding = (pointer: string, message: string): void => void problems.push({ pointer, message, rule: 'target:aws' });
    if (!TRANSLATIONS[c.kind]) finding('/kind', `the aws target cannot deploy ${c.kind} yet`);
    if (CONTAINER_KINDS.has(c.kind) && typeof c.spec['image'] !== 'string')
      finding('/spec/image', `the aws target runs ${c.kind} from a container image: set spec.image`);
    if (c.spec['port'] === 'auto')
      finding('/spec/port', "port: auto is the local target's: on the aws target the container listens on a port you name (e.g. 8080)");
    for (const s of secretRefs(c.spec))
      if (s.provider !== 'aws-secretsmanager')
        finding(
          `/spec${s.pointer}/secretRef/provider`,
          `on the aws target a secret is read from AWS Secrets Manager: use provider aws-secretsmanager (${String(s.provider)} is read where deployer runs, not where the component does)`,
        );
    const infra = c.spec[STACK_INFRA_KEY] as StackInfra | undefined;
    if (CONTAINER_KINDS.has(c.kind) && c.spec['launchType'] === 'ec2')
      finding('/spec/launchType', "the stack's ECS cluster has Fargate capacity only: use launchType fargate or fargate-spot");
    const albLogs = (infra?.bucketAccess ?? []).filter((a) => a.access === 'alb-logs').map((a) => a.component);
    if (albLogs.length > 0 && (c.spec['encryption'] as { algorithm?: string } | undefined)?.algorithm === 'aws:kms')
      finding(
        '/spec/encryption/algorithm',
        `${albLogs.join(' and ')} write${albLogs.length > 1 ? '' : 's'} access logs here, which Elastic Load Balancing does only to a bucket encrypted with S3-managed keys: use algorithm AES256`,
      );
    const queueScaling = (c.spec['autoscaling'] as { queue?: unknown; enabled?: boolean } | undefined) ?? {};
    if (c.kind === 'Worker' && queueScaling.queue && queueScaling.enabled !== false && infra && !infra.observability.containerInsights)
      finding(
        '/spec/autoscaling/queue',
        "scaling on a queue's backlog per task reads the running task count from Container Insights: turn on metrics.containerInsights in the stack's Observability document",
      );
    const explicit = (c.spec['network'] as { subnetIds?: unknown[] } | undefined)?.subnetIds;
    const placed = SUBNET_KINDS.has(c.kind) || (c.kind === 'Lambda' && c.spec['network'] !== undefined);
    if (placed && !explicit && infra && infra.platform['subnetIds'] === undefined)
      finding(
        '/kind',
        `${article(c.kind)} ${c.kind} on aws is placed in subnets: add a Networking document to the stack (docs/aws-target.md), or set spec.network.subnetIds`,
      );
    return problems;
  }

  engineEnv(): Record<string, string> {
    return {};
  }

  /** The program run under Pulumi's runtime mocks (mocks.ts): every resource it registers, nothing made. */
  async describe(c: DesiredComponent, resolvedSpec: Record<string, unknown>, context: TargetContext): Promise<DescribedResources> {
    const { runWithMocks } = await import('./mocks.js');
    const region = (resolvedSpec[STACK_INFRA_KEY] as StackInfra | undefined)?.region;
    const run = await runWithMocks(this.program(c, resolvedSpec, context), region);
    return { resources: run.resources.map((r) => ({ type: r.type, name: r.name })), outputs: run.outputs };
  }

  program(c: DesiredComponent, resolvedSpec: Record<string, unknown>, context: TargetContext) {
    const load = TRANSLATIONS[c.kind];
    if (!load) throw new DeployerError('INVALID_INPUT', `the aws target cannot deploy ${c.kind} (${c.id}) yet`);
    return async (): Promise<Outputs> => {
      const [aws, pulumi, translate] = await Promise.all([import('@pulumi/aws'), import('@pulumi/pulumi'), load()]);
      const { [STACK_INFRA_KEY]: infra, ...spec } = resolvedSpec;
      const scope = new AwsScope({ component: c, spec, infra: infra as StackInfra, aws, pulumi, context });
      return translate(scope);
    };
  }
}
