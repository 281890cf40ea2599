/**
 * What a kind's translation works with (targets/aws/kinds/*.ts): the component and its resolved
 * spec, what the stack gives it (`_stack`, model/stack-infra.ts), @pulumi/aws and @pulumi/pulumi,
 * and the conventions every kind shares, so that each is written once: physical names, the
 * provider (region, and the stack's tags on every taggable resource), placement in the VPC,
 * KMS keys by name, log groups with the stack's retention, CloudWatch alarms from
 * Observability's alerts, and the IAM role a component runs with (Security's roles attached to
 * it, and least-privilege grants for what it references).
 */
import type * as awsModule from '@pulumi/aws';
import type * as pulumiModule from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import { DeployerError } from '../../errors.js';
import type { DesiredComponent } from '../../model/desired.js';
import type { StackInfra, SubnetTier } from '../../model/stack-infra.js';
import type { TargetContext } from '../target.js';

export type Aws = typeof awsModule;
export type Pulumi = typeof pulumiModule;
type Spec = Record<string, unknown>;

/** What a translation returns: the component's outputs (the names its kind's schema declares for aws). */
export type Outputs = Record<string, pulumiModule.Input<unknown>>;

/** Environments treated as production (deletion protection, multi-AZ and backups on by default). */
const PRODUCTION = /^(prod|production|prd|live)$/i;

/** How a name must look where AWS constrains it. */
export interface NameRules {
  /** Longest name AWS takes (ALB 32, RDS 63, IAM role 64 ...). */
  max: number;
  /** Lower-case only (S3, RDS, ElastiCache). */
  lowercase?: boolean;
  /** Something appended (`-task`, `-dlq`, `.fifo`). */
  suffix?: string;
  /** The character that joins words (`-` unless AWS refuses it, as CloudWatch dashboards may). */
  separator?: string;
}

export interface ScopeInput {
  component: Pick<DesiredComponent, 'id' | 'service' | 'name' | 'kind' | 'baseDir'>;
  /** The spec with every reference resolved, `_stack` apart. */
  spec: Spec;
  infra: StackInfra;
  aws: Aws;
  pulumi: Pulumi;
  context: TargetContext;
}

export class AwsScope {
  readonly id: string;
  readonly service: string;
  readonly name: string;
  readonly kind: string;
  /** The directory of the component's YAML file: its relative paths (a function's code) start there. */
  readonly baseDir: string;
  readonly spec: Spec;
  readonly infra: StackInfra;
  readonly aws: Aws;
  readonly pulumi: Pulumi;
  readonly context: TargetContext;
  /** The provider every resource of the component is made with. */
  readonly provider: awsModule.Provider;

  constructor(input: ScopeInput) {
    this.id = input.component.id;
    this.service = input.component.service;
    this.name = input.component.name;
    this.kind = input.component.kind;
    this.baseDir = input.component.baseDir;
    this.spec = input.spec;
    this.infra = input.infra;
    this.aws = input.aws;
    this.pulumi = input.pulumi;
    this.context = input.context;
    this.provider = new input.aws.Provider('aws', { region: input.infra.region as awsModule.Region, defaultTags: { tags: this.tags } });
  }

  /** Options of a resource of this component: its provider, and any others given. */
  opts(extra: pulumiModule.CustomResourceOptions = {}): pulumiModule.CustomResourceOptions {
    return { provider: this.provider, ...extra };
  }

  /** The tags of every resource (the provider's default tags): the spec's (stack defaults merged) and deployer's own. */
  get tags(): Record<string, string> {
    return {
      ...((this.spec['tags'] as Record<string, string> | undefined) ?? {}),
      'deployer:stack': this.infra.stack,
      'deployer:environment': this.infra.environment,
      'deployer:component': this.id,
    };
  }

  get isProduction(): boolean {
    return PRODUCTION.test(this.infra.environment);
  }

  /** The prefix of the component's physical names: `<stack>-<env>-<service>-<name>`. */
  get baseName(): string {
    return [this.infra.stack, this.infra.environment, this.service, this.name].join('-');
  }

  /**
   * A physical name for one of the component's resources, within AWS's rules: the base name
   * (and suffix), cut to `max` with a short hash of the whole so that two long names stay apart.
   */
  physicalName(rules: NameRules): string {
    const sep = rules.separator ?? '-';
    const suffix = rules.suffix ?? '';
    let base = this.baseName.replaceAll('-', sep);
    if (rules.lowercase) base = base.toLowerCase();
    if (base.length + suffix.length <= rules.max) return base + suffix;
    const hash = createHash('sha256')
      .update(base + suffix)
      .digest('hex')
      .slice(0, 6);
    return `${base.slice(0, rules.max - suffix.length - hash.length - 1)}${sep}${hash}${suffix}`;
  }

  /** A value of the stack's platform (stack/platform), or an error saying which document provides it. */
  platform<T>(output: keyof StackInfra['platform'], needed: string): T {
    const v = this.infra.platform[output];
    if (v === undefined) {
      throw new DeployerError(
        'APPLY_FAILED',
        `${this.id}: ${needed}, which the stack's ${providerOf(output)} provides; the stack has none`,
        {
          details: [`add a ${providerOf(output)} document (docs/aws-target.md), or set it on the component`],
        },
      );
    }
    return v as T;
  }

  /** The subnets the component is placed in: spec.network.subnetIds, else the stack's subnets of its tier. */
  subnetIds(defaultTier: SubnetTier = 'private'): string[] {
    const network = (this.spec['network'] ?? {}) as { subnetIds?: string[]; subnets?: SubnetTier };
    if (network.subnetIds && network.subnetIds.length > 0) return network.subnetIds;
    const tier = network.subnets ?? defaultTier;
    const all = this.platform<Record<SubnetTier, string[]>>('subnetIds', `it is placed in ${tier} subnets`);
    const ids = all[tier] ?? [];
    if (ids.length === 0)
      throw new DeployerError('APPLY_FAILED', `${this.id}: the stack's Networking has no ${tier} subnets`, {
        details: [`add subnets.${tier} to the Networking document, or set spec.network.subnets`],
      });
    return ids;
  }

  /** The VPC of the stack. */
  vpcId(): string {
    return this.platform<string>('vpcId', 'it is placed in the VPC');
  }

  /** The security groups of spec.network.securityGroups: names of the stack's Security groups, sg- ids, or resolved values. */
  securityGroupIds(): string[] {
    const named = ((this.spec['network'] as { securityGroups?: string[] } | undefined)?.securityGroups ?? []) as string[];
    const groups = named.some((n) => !n.startsWith('sg-'))
      ? this.platform<Record<string, string>>('securityGroupIds', 'it names security groups')
      : {};
    return named.map((n) => {
      if (n.startsWith('sg-')) return n;
      const id = groups[n];
      if (id === undefined)
        throw new DeployerError('APPLY_FAILED', `${this.id}: no security group "${n}" in the stack's Security documents`);
      return id;
    });
  }

  /** A KMS key as written (id, ARN, alias/...), or the ARN of the stack's key it names (by name or alias/<stack>-<env>-<name>). */
  kmsKey(written: string | undefined): string | undefined {
    if (written === undefined) return undefined;
    const keys = (this.infra.platform['kmsKeyArns'] as Record<string, string> | undefined) ?? {};
    const alias = `alias/${this.infra.stack}-${this.infra.environment}-`;
    const name = written.startsWith(alias) ? written.slice(alias.length) : written;
    return keys[name] ?? written;
  }

  /** The days log groups keep events (Observability's logging.retentionDays; 30 when it says nothing). */
  get logRetentionDays(): number {
    return this.infra.observability.logRetentionDays ?? 30;
  }

  /** A CloudWatch log group of the component, with the stack's retention. */
  logGroup(name: string, logicalName = 'logs'): awsModule.cloudwatch.LogGroup {
    return new this.aws.cloudwatch.LogGroup(logicalName, { name, retentionInDays: this.logRetentionDays }, this.opts());
  }
}

function providerOf(output: string): string {
  if (output === 'vpcId' || output === 'subnetIds' || output === 'privateZoneId') return 'Networking';
  if (output === 'securityGroupIds' || output === 'kmsKeyArns') return 'Security';
  if (output === 'alertTopicArn') return 'Observability (notifications)';
  return 'platform';
}
