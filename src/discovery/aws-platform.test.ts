/**
 * What the aws target is given of the stack (aws-platform.ts): the stack's shared resources as
 * stack/platform, and each component's `_stack` — the platform outputs its kind uses,
 * Observability's alerts that apply to it, Security's roles attached to it, the IAM access its
 * references call for, the load balancers that route to it — on examples/shop, and the problems
 * an aws stack can have that only this step sees.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, repoRoot, writeStackDir } from '../../test/helpers/testdir.js';
import type { DesiredStack } from '../model/desired.js';
import type { StackInfra } from '../model/stack-infra.js';
import { discover } from './index.js';

afterAll(removeTestdirs);

const shop = path.join(repoRoot, 'examples', 'shop');
const infraOf = (d: DesiredStack, id: string): StackInfra => d.components.get(id)!.spec['_stack'] as StackInfra;
const fromPlatform = (output: string) => ({ valueFrom: { component: 'stack/platform', output } });

describe('the aws platform of examples/shop in production', () => {
  let desired: DesiredStack;
  beforeAll(async () => {
    desired = await discover({ dir: shop, environment: 'production', cacheDir: false });
  });

  it('makes the stack’s shared resources one component, stack/platform, of a service of its own', () => {
    const platform = desired.components.get('stack/platform')!;
    expect(platform.kind).toBe('Platform');
    expect(Object.keys(platform.spec).sort()).toEqual(['_stack', 'alerts', 'cluster', 'kmsKeys', 'networking', 'securityGroups', 'tags']);
    // The production overlay of the Networking document is what the platform deploys.
    expect((platform.spec['networking'] as { natGateways: string }).natGateways).toBe('one-per-az');
    expect(platform.dependsOn).toEqual([]);
    expect(desired.services.get('stack')).toMatchObject({ name: 'stack' });
  });

  it('gives the API the platform outputs its kind uses, its alerts, its role, the grants its references call for and its load balancer', () => {
    const api = infraOf(desired, 'api/api');
    expect(api.region).toBe('eu-west-1');
    expect(api.platform).toEqual({
      vpcId: fromPlatform('vpcId'),
      subnetIds: fromPlatform('subnetIds'),
      securityGroupIds: fromPlatform('securityGroupIds'),
      clusterArn: fromPlatform('clusterArn'),
      clusterName: fromPlatform('clusterName'),
      alertTopicArn: fromPlatform('alertTopicArn'),
      // The queue it sends to is encrypted with the stack's key: sending takes the key.
      kmsKeyArns: fromPlatform('kmsKeyArns'),
    });
    expect(api.observability.alarms.map((a) => a.name)).toEqual(['api-5xx', 'api-latency']);
    expect(api.observability.logRetentionDays).toBe(365);
    expect(api.iam.roles).toEqual([
      expect.objectContaining({
        name: 'api-task',
        assumedBy: ['ecs-tasks.amazonaws.com'],
        policies: [
          {
            name: 'send-orders',
            statements: [{ actions: ['sqs:SendMessage'], resources: [{ valueFrom: { component: 'jobs/orders', output: 'arn' } }] }],
          },
        ],
      }),
    ]);
    expect(api.grants).toEqual([
      { component: 'data/assets', kind: 'S3', access: 'use', arn: { valueFrom: { component: 'data/assets', output: 'arn' } } },
      {
        component: 'jobs/orders',
        kind: 'SQS',
        access: 'use',
        arn: { valueFrom: { component: 'jobs/orders', output: 'arn' } },
        kmsKeyId: 'alias/shop-production-shop-data',
      },
    ]);
    expect(api.attachments).toEqual([
      {
        loadBalancer: 'edge/lb',
        kind: 'ALB',
        listenerArns: { valueFrom: { component: 'edge/lb', output: 'listenerArns' } },
        url: { valueFrom: { component: 'edge/lb', output: 'url' } },
        listeners: [
          { port: 80, protocol: 'HTTP' },
          { port: 443, protocol: 'HTTPS' },
        ],
        route: expect.objectContaining({ name: 'api', paths: ['/api/*', '/healthz'], deregistrationDelay: 30 }),
      },
    ]);
  });

  it('lets the worker consume the queue it reads, alerts the queue in production, and gives a database no role', () => {
    expect(infraOf(desired, 'jobs/order-worker').grants).toEqual([
      {
        component: 'jobs/orders',
        kind: 'SQS',
        access: 'consume',
        arn: { valueFrom: { component: 'jobs/orders', output: 'arn' } },
        kmsKeyId: 'alias/shop-production-shop-data',
      },
    ]);
    expect(infraOf(desired, 'jobs/orders').observability.alarms.map((a) => a.name)).toEqual(['orders-backlog', 'orders-dead-letters']);
    const db = infraOf(desired, 'data/db');
    expect([db.iam.roles, db.grants]).toEqual([[], []]);
    // It names the stack's key by its alias: it is given the keys, and deploys after them.
    expect(db.platform['kmsKeyArns']).toEqual(fromPlatform('kmsKeyArns'));
    expect(desired.components.get('data/db')!.dependsOn).toEqual(['stack/platform']);
  });

  it('orders the graph so that nothing deploys before what it is given', async () => {
    const staging = await discover({ dir: shop, environment: 'staging', cacheDir: false });
    // Staging's queue names no key: of the platform it needs only the alert topic its alarms notify.
    expect(infraOf(staging, 'jobs/orders').platform).toEqual({ alertTopicArn: fromPlatform('alertTopicArn') });
    expect(staging.components.get('jobs/orders')!.dependsOn).toEqual(['stack/platform']);
    expect(infraOf(staging, 'jobs/orders').observability.alarms.map((a) => a.name)).toEqual(['orders-backlog', 'orders-dead-letters']);
    const dev = await discover({ dir: shop, environment: 'dev', cacheDir: false });
    expect(infraOf(dev, 'jobs/orders').observability.alarms.map((a) => a.name)).toEqual(['orders-dead-letters']);
  });
});

const stack = (target = 'aws'): string =>
  `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: tmp\nspec:\n  environments: [dev]\n  target: ${target}\n  region: eu-central-1\n`;
const service = (name: string): string => `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${name}\n`;
const web = `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: web\nspec:\n  image: example/web:1\n  command: [node, web.js]\n  port: 8080\n  network:\n    securityGroups: [webb, sg-0123]\n`;
const security = `apiVersion: infra.deployer.io/v1\nkind: Security\nmetadata:\n  name: sec\nspec:\n  securityGroups:\n    - name: web\n      ingress:\n        - { port: 8080, securityGroups: [lb] }\n  iam:\n    roles:\n      - name: r\n        assumedBy: [ecs-tasks.amazonaws.com]\n        attachTo: [app/web, app/files, app/nothing]\n        policies: [p, q]\n    policies:\n      - name: p\n        statements:\n          - { actions: ['s3:GetObject'], resources: ['*'] }\n`;
const files = `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: files\n`;
const networking = (name: string): string =>
  `apiVersion: infra.deployer.io/v1\nkind: Networking\nmetadata:\n  name: ${name}\nspec:\n  vpc:\n    cidr: 10.0.0.0/16\n`;

describe('problems only an aws stack has', () => {
  it('reports a reserved service name, a second Networking document, unknown groups, policies and components, and a role on a bucket, at once', async () => {
    const dir = writeStackDir({
      'stack.yaml': stack(),
      'services/app/service.yaml': service('app'),
      'services/stack/service.yaml': service('stack'),
      'services/app/web.yaml': web,
      'services/app/files.yaml': files,
      'infra/security.yaml': security,
      'infra/net.yaml': `${networking('one')}---\n${networking('two')}`,
    });
    expect(await problemsRaised(discover({ dir, displayBase: dir, environment: 'dev', cacheDir: false }))).toEqual([
      'infra/net.yaml:12:3 Networking/two /metadata/name [aws] a stack has one Networking document; Networking/one is the first',
      'infra/security.yaml:9:42 Security/sec /spec/securityGroups/0/ingress/0/securityGroups/0 [aws] no security group "lb" in the stack\'s Security documents; the stack\'s groups: web',
      'infra/security.yaml:14:29 Security/sec /spec/iam/roles/0/attachTo/1 [aws] app/files is an S3, which runs with no role; roles attach to MicroService, Worker, CronJob, Lambda, EC2Instance',
      'infra/security.yaml:14:40 Security/sec /spec/iam/roles/0/attachTo/2 [aws] unknown component "app/nothing"',
      'infra/security.yaml:15:23 Security/sec /spec/iam/roles/0/policies/1 [aws] no policy "q" in the stack\'s Security documents',
      'services/app/web.yaml:10:22 MicroService/web /spec/network/securityGroups/0 [aws] no security group "webb" in the stack\'s Security documents; did you mean "web"?',
      'services/stack/service.yaml:4:3 Service/stack /metadata/name [aws] the service name "stack" is reserved on the aws target: the stack\'s network, security groups, keys and cluster deploy as stack/platform',
    ]);
  });

  it('gives nothing of the kind on the local target, and makes no platform for a stack that shares nothing', async () => {
    const local = writeStackDir({
      'stack.yaml': stack('local'),
      'services/app/service.yaml': service('app'),
      'services/app/files.yaml': files,
    });
    const onLocal = await discover({ dir: local, environment: 'dev', cacheDir: false });
    expect([...onLocal.components.keys()]).toEqual(['app/files']);
    expect(onLocal.components.get('app/files')!.spec['_stack']).toBeUndefined();
    const aws = writeStackDir({ 'stack.yaml': stack(), 'services/app/service.yaml': service('app'), 'services/app/files.yaml': files });
    const onAws = await discover({ dir: aws, environment: 'dev', cacheDir: false });
    expect([...onAws.components.keys()]).toEqual(['app/files']);
    expect(infraOf(onAws, 'app/files')).toEqual({
      stack: 'tmp',
      environment: 'dev',
      region: 'eu-central-1',
      platform: {},
      observability: { alarms: [] },
      iam: { roles: [] },
      grants: [],
      attachments: [],
    });
  });
});
