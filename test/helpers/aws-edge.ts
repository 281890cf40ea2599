/**
 * What the aws target's edge tests share (src/targets/aws/kinds/edge-*.test.ts): the small stack
 * test/fixtures/aws-edge translated under Pulumi's runtime mocks, with the services, functions and
 * instance the edge routes to (kinds other tests cover) given by their outputs; where its golden
 * files are kept; the outputs each edge kind declares; the small readers of a mocked run's
 * resources and alarms; and a component translated again with fields of its spec changed, to
 * see what it is refused with.
 */
import path from 'node:path';
import { resolveSpec } from '../../src/plan/resolve.js';
import { AwsTarget } from '../../src/targets/aws/index.js';
import { runWithMocks, type MockedResource } from '../../src/targets/aws/mocks.js';
import { translateStack, type TranslatedStack } from './aws-translate.js';
import { repoRoot } from './testdir.js';

export const ACCOUNT = '123456789012';
export const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'aws-edge');
const fn = (name: string) => {
  const arn = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:edge-${name}`;
  return {
    arn,
    name: `edge-${name}`,
    invokeArn: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${arn}/invocations`,
    qualifiedArn: `${arn}:1`,
  };
};
const service = (name: string) => ({
  url: `https://${name}.example.com`,
  port: 8080,
  arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/edge/${name}`,
  name,
  targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:targetgroup/edge-${name}/0123456789abcdef`,
});
/** Components of kinds other tests translate (Lambda, MicroService, EC2Instance), given by their outputs. */
export const GIVEN = {
  'fn/orders': fn('orders'),
  'fn/auth': fn('auth'),
  'web/api': service('api'),
  'web/admin': service('admin'),
  'legacy/box': {
    id: 'i-0123456789abcdef0',
    arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0123456789abcdef0`,
    privateIp: '10.40.16.10',
    publicIp: '',
    privateDns: 'ip-10-40-16-10.eu-west-1.compute.internal',
    publicDns: '',
  },
};
export const EDGE = ['edge/lb', 'edge/nlb', 'edge/cdn', 'edge/api', 'edge/ws', 'edge/rest'];
export const ALB_OUTPUTS = ['arn', 'dnsName', 'listenerArn', 'listenerArns', 'url', 'zoneId'];
export const NLB_OUTPUTS = ['arn', 'dnsName', 'listenerArn', 'listenerArns', 'zoneId'];
export const CLOUDFRONT_OUTPUTS = ['arn', 'domainName', 'hostedZoneId', 'id', 'url'];
export const API_OUTPUTS = ['arn', 'executionArn', 'id', 'url'];

/** The stack translated for `environment`, the components of kinds other tests cover given by their outputs. */
export const translateEdge = (environment: string): Promise<TranslatedStack> => translateStack(FIXTURE, environment, GIVEN);

export const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'edge', env, `${id.replace('/', '.')}.yaml`);
/** The resources of a type, by name (the runtime registers them in no fixed order). */
export const ofType = (resources: MockedResource[], type: string): MockedResource[] =>
  resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
export const one = (resources: MockedResource[], type: string, name: string): MockedResource => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};
/** Each resource as `type name`, sorted: a kind's resource set. */
export const set = (resources: MockedResource[]): string[] => resources.map((r) => `${r.type} ${r.name}`).sort();
export const alarms = (resources: MockedResource[]) => ofType(resources, 'aws:cloudwatch/metricAlarm:MetricAlarm');
/** A metric math alarm's queries, as its inputs hold them. */
export interface Query {
  id: string;
  expression?: string;
  metric?: { metricName: string; period: number; stat: string; dimensions: Record<string, string> };
}
export const queries = (alarm: MockedResource): Query[] => alarm.inputs['metricQueries'] as Query[];
/** What each query reads: its metric, or its expression. */
export const reads = (alarm: MockedResource): string[] => queries(alarm).map((q) => q.metric?.metricName ?? q.expression!);
/** The value at a dotted path of a JSON value (`origins.0.domainName`), undefined where there is none. */
export function at(value: unknown, path: string): unknown {
  if (path === '') return value;
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

/**
 * The error a component of the stack is refused with when translated again with fields of its
 * spec changed (undefined: removed), before references are resolved. Caught in the program, so
 * that the runtime finishes what was registered before it.
 */
export async function refusal(stack: TranslatedStack, id: string, changes: Record<string, unknown>): Promise<string> {
  const c = stack.desired.components.get(id)!;
  const spec = structuredClone(c.spec);
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const parent = at(spec, keys.slice(0, -1).join('.')) as Record<string, unknown>;
    if (value === undefined) delete parent[keys.at(-1)!];
    else parent[keys.at(-1)!] = value;
  }
  const resolved = resolveSpec(spec, (dep) => stack.runs.get(dep)?.outputs);
  const program = new AwsTarget().program(c, resolved.spec, { stack: stack.desired.name, environment: 'dev', stackDir: FIXTURE });
  let refused = 'nothing refused';
  await runWithMocks(async () => {
    try {
      return await program();
    } catch (e) {
      refused = (e as Error).message;
      return {};
    }
  }, 'eu-west-1');
  return refused;
}
