/**
 * What the aws target's compute and messaging tests share (src/targets/aws/kinds/compute-messaging-*.test.ts):
 * the stack test/fixtures/aws-compute-messaging translated under Pulumi's runtime mocks, with the
 * DynamoDB table (another test's kind) given by its outputs and the options of every resource
 * (protect, ignoreChanges) and the runtime's warnings recorded; where its golden files are kept;
 * the small readers of a mocked run's resources; the outputs each kind declares; and a component
 * translated alone, or refused before it makes anything (what the stack cannot show).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks.js';
import { expect, vi } from 'vitest';
import type { DeployedKind } from '../../src/model/documents.js';
import type { StackInfra } from '../../src/model/stack-infra.js';
import { TRANSLATIONS } from '../../src/targets/aws/kinds/index.js';
import { runWithMocks, type MockedResource, type MockedRun } from '../../src/targets/aws/mocks.js';
import { AwsScope, type Aws } from '../../src/targets/aws/scope.js';
import { translateStack, type TranslatedStack } from './aws-translate.js';
import { repoRoot } from './testdir.js';

export const fixture = path.join(repoRoot, 'test', 'fixtures', 'aws-compute-messaging');
export const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'compute-messaging', env, `${id.replace('/', '.')}.yaml`);
/** The resources of a type, by name (the runtime registers them in no fixed order). */
export const ofType = (resources: MockedResource[], type: string): MockedResource[] =>
  resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
export const one = (resources: MockedResource[], type: string, name: string): MockedResource =>
  resources.find((r) => r.type === type && r.name === name) ?? expect.fail(`no ${type} ${name}`);
export const statements = (r: MockedResource, key = 'policy'): unknown => JSON.parse(String(r.inputs[key])).Statement;
export const KINDS = ['Lambda', 'EC2Instance', 'EBS', 'EFS', 'SNS', 'EventBridge', 'MSK', 'Kafka'];
export const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret';

/** The DynamoDB table is another test's kind: its outputs are given. */
export const given = {
  'data/table': {
    tableName: 'cm-table',
    arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/cm-table',
    streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/cm-table/stream/2026-01-01T00:00:00.000',
  },
};

/** The outputs a kind declares for aws (its schema's x-deployer-target-outputs.aws, else x-deployer-outputs). */
export function declaredOutputs(kind: string): string[] {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas', `${kind}.schema.json`), 'utf8'));
  return [...(schema['x-deployer-target-outputs']?.aws ?? Object.keys(schema['x-deployer-outputs']))].sort();
}

/** Resource options the mocked runs do not keep (protect, ignoreChanges), with each resource's inputs to find it by. */
export interface Options {
  type: string;
  name: string;
  protect: boolean;
  ignoreChanges: string[];
  inputs: Record<string, unknown>;
}
type Request = {
  getType(): string;
  getName(): string;
  getProtect(): boolean;
  getIgnorechangesList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
};
/** Records the options of every resource registered with the runtime's mocks, until the returned function is called. */
function recordOptions(into: Options[]): () => void {
  const proto = MockMonitor.prototype as unknown as { registerResource(req: Request, cb: unknown): Promise<void> };
  const original = proto.registerResource;
  proto.registerResource = function (this: unknown, req: Request, cb: unknown) {
    const inputs = req.getObject()?.toJavaScript() ?? {};
    into.push({ type: req.getType(), name: req.getName(), protect: req.getProtect(), ignoreChanges: req.getIgnorechangesList(), inputs });
    return original.call(this, req, cb);
  };
  return () => void (proto.registerResource = original);
}

/**
 * The stack translated for `environment`, with the options of every resource it registers put
 * in `options` and what the runtime warns put in `warnings` (and not printed).
 */
export async function translateFixture(environment: string, options: Options[], warnings: string[]): Promise<TranslatedStack> {
  const restore = recordOptions(options);
  const warn = vi.spyOn(console, 'warn').mockImplementation((m: unknown) => void warnings.push(String(m)));
  try {
    return await translateStack(fixture, environment, given);
  } finally {
    restore();
    warn.mockRestore();
  }
}

/** One component translated alone, in a stack with private subnets and no alerts, unless `infra` says otherwise. */
function scopeAlone(kind: DeployedKind, spec: Record<string, unknown>, infra: Partial<StackInfra>, aws: Aws): AwsScope {
  const base: StackInfra = {
    stack: 'cm',
    environment: 'dev',
    region: 'eu-west-1',
    platform: {
      vpcId: 'vpc-1',
      subnetIds: { private: ['subnet-a', 'subnet-b'], public: [], isolated: [] },
      securityGroupIds: { kafka: 'sg-kafka' },
    },
    observability: { alarms: [] },
    iam: { roles: [] },
    grants: [],
    attachments: [],
  };
  return new AwsScope({
    component: { id: 'svc/one', service: 'svc', name: 'one', kind, baseDir: fixture },
    spec,
    infra: { ...base, ...infra },
    aws,
    pulumi,
    context: { stack: 'cm', environment: 'dev', stackDir: fixture },
  });
}

/** One component translated alone, in a stack with two private subnets and no alerts, unless `infra` says otherwise. */
export async function translateAlone(
  kind: DeployedKind,
  spec: Record<string, unknown>,
  infra: Partial<StackInfra> = {},
): Promise<MockedRun> {
  const [aws, translate] = await Promise.all([import('@pulumi/aws'), TRANSLATIONS[kind]!()]);
  return runWithMocks(async () => (await translate(scopeAlone(kind, spec, infra, aws))) as Record<string, unknown>);
}

/**
 * What a translation refuses, before it makes anything: with an AWS module that has nothing but
 * a provider, any resource it tried to make would fail otherwise (and a program failing under
 * the runtime's mocks leaves the runtime's own promises rejected).
 */
export async function refusal(kind: DeployedKind, spec: Record<string, unknown>): Promise<string> {
  const translate = await TRANSLATIONS[kind]!();
  const aws = { Provider: class {} } as unknown as Aws;
  try {
    await translate(scopeAlone(kind, spec, {}, aws));
  } catch (e) {
    return (e as Error).message;
  }
  return 'no refusal';
}
