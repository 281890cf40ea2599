/**
 * Fields naming a component by its id (issue 16: "Every field of a kind's schema that names
 * another component ... is marked as a reference in the schema, validated like valueFrom
 * (unknown component, wrong kind), and becomes an edge in the graph, in the direction the AWS
 * resources need").
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { schemasDir } from '../package-info.js';
import { discoverStack } from './index.js';
import { REFERENCE_MARKER } from './typed-references.js';

afterAll(removeTestdirs);

const stack = `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: tmp\nspec:\n  environments: [dev]\n  target: aws\n`;
const service = (name: string): string => `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${name}\n`;
const component = (kind: string, name: string, spec: string): string =>
  `apiVersion: components.deployer.io/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/** A stack with edge/lb (an ALB whose spec is `lb`), api/api (a MicroService), data/logs (S3) and jobs/orders (SQS). */
function shop(lb: string, extra: Record<string, string> = {}): string {
  return writeStackDir({
    'stack.yaml': stack,
    'services/edge/service.yaml': service('edge'),
    'services/api/service.yaml': service('api'),
    'services/data/service.yaml': service('data'),
    'services/jobs/service.yaml': service('jobs'),
    'services/edge/lb.yaml': component('ALB', 'lb', lb),
    'services/api/api.yaml': component('MicroService', 'api', '  image: example/api:1\n  port: 8080\n'),
    'services/data/logs.yaml': component('S3', 'logs', '  versioning: false\n'),
    'services/jobs/orders.yaml': component('SQS', 'orders', '  fifo: false\n'),
    ...extra,
  });
}

describe('typed references', () => {
  it('makes a component id in a reference field the valueFrom of the output its kind gives there, and an edge the same way', async () => {
    const dir = shop('  targets: [api/api]\n  accessLogs:\n    bucket: data/logs\n');
    const { desired, graph } = await discoverStack({ dir, environment: 'dev', cacheDir: false });
    const lb = desired.components.get('edge/lb')!;
    expect(lb.spec['accessLogs']).toEqual({ bucket: { valueFrom: { component: 'data/logs', output: 'bucketName' } } });
    expect(lb.references.filter((r) => !r.path.startsWith('/_stack/'))).toEqual([
      { path: '/accessLogs/bucket', component: 'data/logs', output: 'bucketName' },
    ]);
    expect(lb.dependsOn).toEqual(['data/logs']);
    // The load balancer exists before the service that registers its target group on it (and the
    // service runs on the stack's cluster).
    expect(desired.components.get('api/api')!.dependsOn).toEqual(['edge/lb', 'stack/platform']);
    expect(lb.spec['targets']).toEqual(['api/api']);
    const order = graph.order;
    expect(order.indexOf('data/logs')).toBeLessThan(order.indexOf('edge/lb'));
    expect(order.indexOf('edge/lb')).toBeLessThan(order.indexOf('api/api'));
  });

  it('attaches a target written with its routing, and keeps a valueFrom target (a target group ARN) as a plain reference', async () => {
    const dir = shop(
      '  targets:\n    - component: api/api\n      paths: [/api/*]\n    - component:\n        valueFrom: { component: api/admin, output: targetGroupArn }\n',
      { 'services/api/admin.yaml': component('MicroService', 'admin', '  image: example/admin:1\n  port: 8081\n') },
    );
    const { desired } = await discoverStack({ dir, environment: 'dev', cacheDir: false });
    expect(desired.components.get('api/api')!.dependsOn).toEqual(['edge/lb', 'stack/platform']);
    expect(desired.components.get('edge/lb')!.dependsOn).toEqual(['api/admin']);
    expect(desired.components.get('api/admin')!.dependsOn).toEqual(['stack/platform']);
  });

  it('refuses an unknown component and one of the wrong kind, at the field, with every problem at once, writing nothing', async () => {
    const dir = shop('  targets: [data/logs, api/apii]\n  accessLogs:\n    bucket: jobs/orders\n', {
      'services/jobs/dlq.yaml': component(
        'SQS',
        'dlq',
        '  deadLetter:\n    maxReceiveCount: 3\n    queue:\n      valueFrom: { component: data/logs, output: arn }\n',
      ),
    });
    const problems = await problemsRaised(discoverStack({ dir, displayBase: dir, environment: 'dev', cacheDir: false }));
    expect(problems).toEqual([
      'services/edge/lb.yaml:6:13 ALB/lb /spec/targets/0 [reference] data/logs is an S3; this field names a MicroService',
      'services/edge/lb.yaml:6:24 ALB/lb /spec/targets/1 [reference] unknown component "api/apii"; did you mean "api/api"?',
      'services/edge/lb.yaml:8:5 ALB/lb /spec/accessLogs/bucket [reference] jobs/orders is an SQS; this field names an S3',
      'services/jobs/dlq.yaml:9:20 SQS/dlq /spec/deadLetter/queue/valueFrom/component [reference] data/logs is an S3; this field names an SQS',
    ]);
    expect(readdirSync(dir)).not.toContain('.deployer');
  });
});

describe('the schemas mark every field that names a component', () => {
  it('puts x-deployer-reference on every use of componentTarget, with kinds that exist and outputs they declare', () => {
    const files = readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json'));
    const schemas = new Map(files.map((f) => [f.replace('.schema.json', ''), JSON.parse(readFileSync(path.join(schemasDir, f), 'utf8'))]));
    const unmarked: string[] = [];
    const wrong: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${where}/${i}`));
      if (node === null || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      const ref = o['$ref'];
      if (typeof ref === 'string' && ref.endsWith('/componentTarget') && !o[REFERENCE_MARKER]) unmarked.push(where);
      const marker = o[REFERENCE_MARKER] as { kinds?: Record<string, string>; attach?: string[] } | undefined;
      for (const [kind, output] of Object.entries(marker?.kinds ?? {})) {
        const outputs = (schemas.get(kind)?.['x-deployer-outputs'] ?? {}) as Record<string, unknown>;
        if (!Object.hasOwn(outputs, output)) wrong.push(`${where}: ${kind}.${output}`);
      }
      for (const kind of marker?.attach ?? []) if (!schemas.has(kind)) wrong.push(`${where}: ${kind}`);
      for (const [k, v] of Object.entries(o)) visit(v, `${where}/${k}`);
    };
    for (const [kind, schema] of schemas) if (kind !== 'defs') visit(schema, kind);
    visit((schemas.get('defs') as { definitions: Record<string, unknown> }).definitions['autoscaling'], 'defs/autoscaling');
    expect(unmarked).toEqual([]);
    expect(wrong).toEqual([]);
  });
});
