/**
 * What the aws target's container tests share (src/targets/aws/kinds/containers-*.test.ts): the
 * stack test/fixtures/aws-containers translated under Pulumi's runtime mocks, with the outputs of
 * edge/lb (an ALB, another kind's translation) given; where its golden files are kept; the small
 * readers of a mocked run's resources; the policies a reviewer expects; and a component
 * translated alone, with the `_stack` a test writes (what the fixture does not show).
 */
import path from 'node:path';
import { expect } from 'vitest';
import type { StackInfra } from '../../src/model/stack-infra.js';
import { translateMicroService } from '../../src/targets/aws/kinds/microservice.js';
import { translateWorker } from '../../src/targets/aws/kinds/worker.js';
import { runWithMocks, type MockedResource, type MockedRun } from '../../src/targets/aws/mocks.js';
import { AwsScope } from '../../src/targets/aws/scope.js';
import { translateStack, type TranslatedStack } from './aws-translate.js';
import { repoRoot } from './testdir.js';

export const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'aws-containers');
export const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'containers', env, `${id.replace('/', '.')}.yaml`);
export const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/containers-lb/50dc6c495c0c9188';
export const LB_DIMENSION = 'app/containers-lb/50dc6c495c0c9188';
/** What edge/lb (an ALB, translated by another kind) outputs. */
export const lbOutputs = (env: string): Record<string, unknown> => ({
  arn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/containers-lb/50dc6c495c0c9188',
  dnsName: `containers-${env}-lb-1234567890.eu-west-1.elb.amazonaws.com`,
  zoneId: 'Z32O12XQLNTSW2',
  url: `https://containers-${env}-lb-1234567890.eu-west-1.elb.amazonaws.com`,
  listenerArn: `${LISTENER}/443aaaa`,
  listenerArns: { '80': `${LISTENER}/80aaaaa`, '443': `${LISTENER}/443aaaa`, '8443': `${LISTENER}/8443aaa` },
});
export const ACCOUNT = 'arn:aws:iam:eu-west-1:123456789012';
export const secret = (name: string): string => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

/** The resources of a type, by name (the runtime registers them in no fixed order). */
export const ofType = (resources: MockedResource[], type: string): MockedResource[] =>
  resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
export const one = (run: MockedRun, type: string, name?: string): MockedResource => {
  const found = ofType(run.resources, type).filter((r) => name === undefined || r.name === name);
  expect(
    found.map((r) => r.name),
    type,
  ).toHaveLength(1);
  return found[0]!;
};
/** Each resource as `type name`, sorted. */
export const inventory = (run: MockedRun): string[] =>
  run.resources.map((r) => `${r.type.split(':')[1]} ${r.name}`).sort((a, b) => a.localeCompare(b));
export const json = (v: unknown): Record<string, unknown> => JSON.parse(String(v)) as Record<string, unknown>;
export const statements = (r: MockedResource): unknown[] => json(r.inputs['policy'])['Statement'] as unknown[];
export const containers = (run: MockedRun): Array<Record<string, unknown>> =>
  JSON.parse(String(one(run, 'aws:ecs/taskDefinition:TaskDefinition').inputs['containerDefinitions'])) as Array<Record<string, unknown>>;
export const envOf = (c: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries((c['environment'] as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
export const XRAY = {
  Effect: 'Allow',
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
  Resource: ['*'],
};
export const ecsTrust = { Effect: 'Allow', Principal: { Service: ['ecs-tasks.amazonaws.com'] }, Action: ['sts:AssumeRole'] };
export const execPolicy = (env: string, id: string, repository: string | undefined, secrets: string[]): unknown[] => [
  ...(repository
    ? [
        { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
        {
          Effect: 'Allow',
          Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
          Resource: [`arn:aws:ecr:eu-west-1:123456789012:repository/${repository}`],
        },
      ]
    : []),
  {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [`arn:aws:cloudwatch:eu-west-1:123456789012:loggroup//ecs/containers-${env}-${id}:log-stream:*`],
  },
  ...(secrets.length ? [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secrets }] : []),
];
/** The common resources of a component running on ECS (task definition, its roles and logs, X-Ray's sampling rule). */
export const TASK = [
  'cloudwatch/logGroup logs',
  'ecs/taskDefinition task',
  'iam/role execution-role',
  'iam/role task-role',
  'iam/rolePolicy execution-role',
  'iam/rolePolicy task-role-deployer-grants',
  'xray/samplingRule tracing',
];
export const sorted = (xs: string[]): string[] => [...xs].sort((a, b) => a.localeCompare(b));
/** A target group's ARN as the mocks make it (from its name). */
export const tgArn = (tg: MockedResource): string => `arn:aws:lb:eu-west-1:123456789012:targetgroup/${String(tg.inputs['name'])}`;

/** The fixture stack translated for `env`, edge/lb's outputs given. */
export const translateContainers = (env: string): Promise<TranslatedStack> => translateStack(FIXTURE, env, { 'edge/lb': lbOutputs(env) });

/** An NLB naming svc/app on its TLS listener, to its port 8443. */
export const NLB = {
  loadBalancer: 'edge/nlb',
  kind: 'NLB' as const,
  listenerArns: { '443': `${LISTENER.replace('/app/', '/net/')}/tls` },
  url: 'nlb.example.com',
  listeners: [{ port: 443, protocol: 'TLS' }],
  route: { port: 8443 },
};

/** A component translated alone under the mocks, with the `_stack` a test writes (what the fixture does not show). */
export async function translateAlone(
  kind: 'MicroService' | 'Worker',
  spec: Record<string, unknown>,
  infra: Partial<StackInfra> = {},
): Promise<MockedRun> {
  return runWithMocks(async () => {
    const [aws, pulumi] = await Promise.all([import('@pulumi/aws'), import('@pulumi/pulumi')]);
    const scope = new AwsScope({
      component: { id: 'svc/app', service: 'svc', name: 'app', kind, baseDir: '/nowhere' },
      spec: { image: 'ghcr.io/example/app:1', ...spec },
      infra: {
        stack: 'alone',
        environment: 'dev',
        region: 'eu-west-1',
        platform: {
          vpcId: 'vpc-1',
          subnetIds: { private: ['subnet-a', 'subnet-b'] },
          clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/alone-dev',
          clusterName: 'alone-dev',
        },
        observability: { alarms: [] },
        iam: { roles: [] },
        grants: [],
        attachments: [],
        ...infra,
      },
      aws,
      pulumi,
      context: { stack: 'alone', environment: 'dev', stackDir: '/nonexistent' },
    });
    return kind === 'Worker' ? translateWorker(scope) : translateMicroService(scope);
  });
}
