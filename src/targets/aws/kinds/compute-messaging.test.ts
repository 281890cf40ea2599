/**
 * The aws target's compute and messaging kinds (test/fixtures/aws-compute-messaging: Lambda,
 * EC2Instance, EBS, EFS, SNS, EventBridge, MSK and Kafka, around queues and a bucket) under
 * Pulumi's runtime mocks. Each component's resources are kept as a golden file
 * (test/fixtures/aws-golden/compute-messaging/); the assertions say what a reviewer must find
 * there. What the stack cannot show (refusals, an ECS target, Kinesis) is translated alone.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { MockMonitor } from '@pulumi/pulumi/runtime/mocks.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderRun, translateStack, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { repoRoot } from '../../../../test/helpers/testdir.js';
import type { DeployedKind } from '../../../model/documents.js';
import type { StackInfra } from '../../../model/stack-infra.js';
import { MOCK_SECRET_VALUE, runWithMocks, type MockedResource, type MockedRun } from '../mocks.js';
import { AwsScope, type Aws } from '../scope.js';
import { awsSchedule } from './compute-messaging.js';
import { architectureOf } from './ec2-instance.js';
import { TRANSLATIONS } from './index.js';
import { mskVersion } from './kafka.js';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'aws-compute-messaging');
const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'compute-messaging', env, `${id.replace('/', '.')}.yaml`);
/** The resources of a type, by name (the runtime registers them in no fixed order). */
const ofType = (resources: MockedResource[], type: string): MockedResource[] =>
  resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
const one = (resources: MockedResource[], type: string, name: string): MockedResource =>
  resources.find((r) => r.type === type && r.name === name) ?? expect.fail(`no ${type} ${name}`);
const statements = (r: MockedResource, key = 'policy'): unknown => JSON.parse(String(r.inputs[key])).Statement;
const KINDS = ['Lambda', 'EC2Instance', 'EBS', 'EFS', 'SNS', 'EventBridge', 'MSK', 'Kafka'];
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret';

/** The DynamoDB table is another test's kind: its outputs are given. */
const given = {
  'data/table': {
    tableName: 'cm-table',
    arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/cm-table',
    streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/cm-table/stream/2026-01-01T00:00:00.000',
  },
};

/** The outputs a kind declares for aws (its schema's x-deployer-target-outputs.aws, else x-deployer-outputs). */
function declaredOutputs(kind: string): string[] {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas', `${kind}.schema.json`), 'utf8'));
  return [...(schema['x-deployer-target-outputs']?.aws ?? Object.keys(schema['x-deployer-outputs']))].sort();
}

/** Resource options the mocked runs do not keep (protect, ignoreChanges), with each resource's inputs to find it by. */
interface Options {
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

describe.each(['dev', 'production'])('the aws-compute-messaging stack in %s', (env) => {
  const prod = env === 'production';
  let stack: TranslatedStack;
  const options: Options[] = [];
  const warnings: string[] = [];
  const run = (id: string): MockedRun => stack.runs.get(id) ?? expect.fail(`no run of ${id}`);
  const protectedOf = (type: string, match: (inputs: Record<string, unknown>) => boolean): boolean =>
    options.find((o) => o.type === type && match(o.inputs))?.protect ?? expect.fail(`no ${type}`);
  beforeAll(async () => {
    const restore = recordOptions(options);
    const warn = vi.spyOn(console, 'warn').mockImplementation((m: unknown) => void warnings.push(String(m)));
    try {
      stack = await translateStack(fixture, env, given);
    } finally {
      restore();
      warn.mockRestore();
    }
  }, 120_000);
  afterAll(() => vi.restoreAllMocks());

  it('keeps the resources of each component of these kinds as its golden file', async () => {
    for (const [id, r] of stack.runs) {
      const c = stack.desired.components.get(id)!;
      // The queues, the bucket and the platform have golden files of their own kinds' tests.
      if (!KINDS.includes(c.kind)) continue;
      // The function's code is packaged from the checkout: its path is shown from the repository.
      const text = renderRun(`${id} (${c.kind}) on aws, environment ${env}`, r).replaceAll(repoRoot, '<repo>');
      await expect(text).toMatchFileSnapshot(golden(env, id));
    }
  });

  it('returns exactly the outputs each kind declares, puts no secret value anywhere, uses nothing deprecated', () => {
    for (const c of stack.desired.components.values()) {
      if (!KINDS.includes(c.kind)) continue;
      expect(Object.keys(run(c.id).outputs).sort(), c.id).toEqual(declaredOutputs(c.kind));
      expect(JSON.stringify(run(c.id)), c.id).not.toContain(MOCK_SECRET_VALUE);
    }
    expect(warnings.filter((w) => /deprecated/i.test(w))).toEqual([]);
    // An alert a kind cannot measure is said, not dropped.
    expect(warnings).toContain(
      'warning: [runtime] events/notify: alert topic-errors measures error-rate, which a SNS does not have: no alarm made for it',
    );
  });

  it('makes a function in the VPC with its log group first, secrets as ARNs, tracing, and every event source', () => {
    const r = run('api/handler').resources;
    const fn = one(r, 'aws:lambda/function:Function', 'function');
    expect(fn.dependsOn).toEqual(
      expect.arrayContaining(['aws:cloudwatch/logGroup:LogGroup::logs', 'aws:iam/rolePolicy:RolePolicy::task-role-running']),
    );
    expect(fn.inputs).toMatchObject({
      runtime: 'nodejs20.x',
      handler: 'index.handler',
      architectures: ['arm64'],
      memorySize: prod ? 1024 : 512,
      timeout: 30,
      publish: true,
      reservedConcurrentExecutions: prod ? 100 : 20,
      tracingConfig: { mode: 'Active' },
      vpcConfig: { subnetIds: ['private-0-id', 'private-1-id'], securityGroupIds: ['sg-functions-id'] },
      loggingConfig: { logFormat: 'JSON', logGroup: `/aws/lambda/cm-${env}-api-handler`, applicationLogLevel: 'INFO' },
    });
    expect((fn.inputs['environment'] as { variables: Record<string, string> }).variables).toEqual({
      API_KEY_SECRET_ARN: `${ARN}:cm/api-key-AbCdEf`,
      DB_PASSWORD_SECRET_ARN: `${ARN}:cm/db-AbCdEf`,
      DB_PASSWORD_SECRET_JSON_KEY: 'password',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      MAX_ITEMS: '50',
      ORDERS_QUEUE_URL: run('jobs/orders').outputs['url'],
      STAGE: prod ? 'production' : 'dev',
    });
    expect(one(r, 'aws:cloudwatch/logGroup:LogGroup', 'logs').inputs['retentionInDays']).toBe(prod ? 90 : 14);
    const queue = run('jobs/orders').outputs['arn'];
    expect(ofType(r, 'aws:lambda/eventSourceMapping:EventSourceMapping').map((m) => m.inputs)).toEqual([
      {
        functionName: run('api/handler').outputs['arn'],
        eventSourceArn: queue,
        enabled: true,
        batchSize: 10,
        maximumBatchingWindowInSeconds: 5,
      },
    ]);
    expect(ofType(r, 'aws:lambda/permission:Permission').map((p) => [p.name, p.inputs['principal'], p.inputs['sourceArn']])).toEqual([
      ['event-1-sns', 'sns.amazonaws.com', run('events/audit').outputs['arn']],
      ['event-2-s3', 's3.amazonaws.com', run('data/uploads').outputs['arn']],
      ['event-3-schedule', 'events.amazonaws.com', expect.stringContaining('cm-' + env + '-api-handler-event-3')],
      ['event-4-eventbridge', 'events.amazonaws.com', expect.stringContaining('cm-' + env + '-api-handler-event-4')],
    ]);
    expect(one(r, 'aws:sns/topicSubscription:TopicSubscription', 'event-1-sns').inputs).toMatchObject({
      protocol: 'lambda',
      topic: run('events/audit').outputs['arn'],
    });
    expect(one(r, 'aws:s3/bucketNotification:BucketNotification', 'event-2-s3').dependsOn).toContain(
      'aws:lambda/permission:Permission::event-2-s3',
    );
    expect(
      ofType(r, 'aws:cloudwatch/eventRule:EventRule').map((e) => [
        e.inputs['scheduleExpression'] ?? e.inputs['eventBusName'],
        e.inputs['state'],
      ]),
    ).toEqual([
      ['cron(0 3 ? * 2-6 *)', 'ENABLED'],
      [run('events/bus').outputs['arn'], 'DISABLED'],
    ]);
    expect(ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.name)).toEqual([
      'alarm-fn-errors',
      'alarm-fn-slow',
      'alarm-fn-throttles',
    ]);
  });

  it('gives a function exactly what it references, reads and runs with', () => {
    const r = run('api/handler').resources;
    const queue = run('jobs/orders').outputs['arn'];
    expect(statements(one(r, 'aws:iam/rolePolicy:RolePolicy', 'task-role-deployer-grants'))).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${run('data/uploads').outputs['arn']}/*`] },
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: [queue],
      },
      { Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], Resource: [queue] },
    ]);
    expect(statements(one(r, 'aws:iam/rolePolicy:RolePolicy', 'task-role-running'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [expect.stringMatching(/\/aws\/lambda\/cm-.*-api-handler:\*$/)],
      },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [`${ARN}:cm/api-key-AbCdEf`, `${ARN}:cm/db-AbCdEf`] },
      {
        Effect: 'Allow',
        Action: [
          'ec2:AssignPrivateIpAddresses',
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: ['*'],
      },
      { Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: ['*'] },
    ]);
    expect(JSON.parse(String(one(r, 'aws:iam/role:Role', 'task-role').inputs['assumeRolePolicy'])).Statement[0].Principal).toEqual({
      Service: ['lambda.amazonaws.com'],
    });
    // An image reading a table's stream and a Kafka topic, outside the VPC: the stream, the cluster's topic and group,
    // and the interfaces Lambda makes in the cluster's subnets to reach it.
    const resizer = run('api/resizer').resources;
    expect(one(resizer, 'aws:lambda/function:Function', 'function').inputs).toMatchObject({
      packageType: 'Image',
      imageConfig: { commands: ['app.handler'] },
    });
    const cluster = String(run('stream/events').outputs['arn']);
    expect(statements(one(resizer, 'aws:iam/rolePolicy:RolePolicy', 'task-role-deployer-grants'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream', 'dynamodb:ListStreams'],
        Resource: ['arn:aws:dynamodb:eu-west-1:123456789012:table/cm-table/stream/*'],
      },
      {
        Effect: 'Allow',
        Action: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers', 'kafka-cluster:Connect', 'kafka-cluster:ReadData'],
        Resource: [cluster],
      },
      // The cluster is encrypted with the stack's key `data`: reading it takes the key.
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: ['arn:aws:kms:eu-west-1:123456789012:key/kms-data'] },
      {
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        Resource: [`${cluster.replace(':cluster/', ':topic/')}/orders`],
      },
      {
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        Resource: [`${cluster.replace(':cluster/', ':group/')}/*`],
      },
      {
        Effect: 'Allow',
        Action: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeVpcs',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        Resource: ['*'],
      },
    ]);
    expect(JSON.stringify(one(resizer, 'aws:iam/rolePolicy:RolePolicy', 'task-role-running').inputs)).not.toContain('ec2:');
    expect(one(resizer, 'aws:lambda/eventSourceMapping:EventSourceMapping', 'event-0-dynamodb-stream').inputs).toMatchObject({
      eventSourceArn: given['data/table'].streamArn,
      startingPosition: 'LATEST',
      batchSize: 100,
    });
    expect(
      ofType(resizer, 'aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig').map(
        (p) => p.inputs['provisionedConcurrentExecutions'],
      ),
    ).toEqual(prod ? [2] : []);
    expect(one(run('api/reporter').resources, 'aws:lambda/function:Function', 'function').inputs).toMatchObject({
      s3Bucket: 'cm-artifacts',
      s3Key: 'builds/reporter.zip',
      s3ObjectVersion: 'v3',
    });
  });

  it('runs instances on IMDSv2 with encrypted roots, an instance profile, and termination protection in production', () => {
    const r = run('compute/host').resources;
    const instances = ofType(r, 'aws:ec2/instance:Instance');
    expect(instances.map((i) => [i.inputs['subnetId'], i.inputs['ami'], i.inputs['instanceType']])).toEqual(
      prod
        ? [
            ['private-0-id', 'ami-0abcdef1234567890', 'm7g.large'],
            ['private-1-id', 'ami-0abcdef1234567890', 'm7g.large'],
          ]
        : [['private-0-id', 'ami-0123456789abcdef0', 't4g.small']],
    );
    for (const i of instances)
      expect(i.inputs).toMatchObject({
        vpcSecurityGroupIds: ['sg-app-id'],
        metadataOptions: { httpTokens: 'required' },
        rootBlockDevice: { encrypted: true, volumeType: 'gp3', volumeSize: 30, iops: 3000 },
        disableApiTermination: prod,
        monitoring: prod,
        keyName: 'ops',
        iamInstanceProfile: `cm-${env}-compute-host`,
      });
    // The looked-up AMI is kept when a newer one comes out; a pinned one is not ignored.
    expect(
      options.filter((o) => o.type === 'aws:ec2/instance:Instance' && o.inputs['keyName'] === 'ops').map((o) => o.ignoreChanges),
    ).toEqual(prod ? [[], []] : [['ami']]);
    expect(ofType(r, 'aws:iam/rolePolicy:RolePolicy').map((p) => [p.name, statements(p)])).toEqual([
      [
        'instance-role-host-config-read-config',
        [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::cm-config/hosts/*'] }],
      ],
    ]);
    expect(ofType(r, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment').map((a) => a.inputs['policyArn'])).toEqual([
      'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
    ]);
    expect(ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.inputs['dimensions'])).toEqual(
      prod ? [{ InstanceId: 'instance-0-id' }, { InstanceId: 'instance-1-id' }] : [{ InstanceId: 'instance-id' }],
    );
    // An instance on a role of its own: no role made, IMDSv1 and no encryption as asked, a group letting nothing in.
    const legacy = run('compute/legacy').resources;
    expect(ofType(legacy, 'aws:iam/role:Role')).toEqual([]);
    expect(one(legacy, 'aws:iam/instanceProfile:InstanceProfile', 'instance-profile').inputs['role']).toBe('legacy-app');
    expect(one(legacy, 'aws:ec2/instance:Instance', 'instance').inputs).toMatchObject({
      subnetId: 'public-0-id',
      associatePublicIpAddress: true,
      metadataOptions: { httpTokens: 'optional' },
      rootBlockDevice: { encrypted: false },
      vpcSecurityGroupIds: ['security-group-id'],
    });
    expect(ofType(legacy, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')).toEqual([]);
  });

  it('attaches an encrypted volume to the host, snapshots it on schedule, and protects the stores in production', () => {
    const r = run('compute/data').resources;
    expect(one(r, 'aws:ebs/volume:Volume', 'volume').inputs).toMatchObject({
      availabilityZone: 'eu-west-1a',
      type: 'gp3',
      size: prod ? 500 : 100,
      iops: 4000,
      throughput: 250,
      encrypted: true,
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/kms-data',
      finalSnapshot: prod,
    });
    expect(one(r, 'aws:ec2/volumeAttachment:VolumeAttachment', 'attachment').inputs).toMatchObject({
      instanceId: run('compute/host').outputs['id'],
      deviceName: '/dev/sdf',
    });
    const policy = one(r, 'aws:dlm/lifecyclePolicy:LifecyclePolicy', 'snapshots').inputs['policyDetails'] as Record<string, unknown>;
    expect(policy).toMatchObject({
      targetTags: { 'deployer:snapshots': `cm-${env}-compute-data` },
      schedules: [
        {
          createRule: prod ? { interval: 12, intervalUnit: 'HOURS' } : { cronExpression: 'cron(0 1 * * ? *)' },
          retainRule: { count: prod ? 30 : 7 },
        },
      ],
    });
    expect(one(run('compute/scratch').resources, 'aws:ebs/volume:Volume', 'volume').inputs).toMatchObject({
      type: 'io2',
      iops: 5000,
      snapshotId: 'snap-0123456789abcdef0',
      encrypted: true,
    });
    expect(protectedOf('aws:ebs/volume:Volume', (i) => i['size'] !== undefined)).toBe(prod);
    expect(protectedOf('aws:efs/fileSystem:FileSystem', (i) => i['creationToken'] === `cm-${env}-storage-shared`)).toBe(prod);
    expect(protectedOf('aws:msk/cluster:Cluster', (i) => i['clusterName'] === `cm-${env}-stream-events`)).toBe(prod);
    // deletionProtection: true protects in every environment.
    expect(protectedOf('aws:msk/cluster:Cluster', (i) => i['clusterName'] === `cm-${env}-stream-legacy`)).toBe(true);
  });

  it('makes an encrypted file system mounted in each private subnet, TLS only, with access points and backups', () => {
    const r = run('storage/shared').resources;
    expect(one(r, 'aws:efs/fileSystem:FileSystem', 'file-system').inputs).toMatchObject({
      encrypted: true,
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/kms-data',
      performanceMode: 'generalPurpose',
      throughputMode: 'elastic',
      lifecyclePolicies: [{ transitionToIa: 'AFTER_30_DAYS' }, { transitionToPrimaryStorageClass: 'AFTER_1_ACCESS' }],
    });
    expect(ofType(r, 'aws:efs/mountTarget:MountTarget').map((m) => [m.inputs['subnetId'], m.inputs['securityGroups']])).toEqual([
      ['private-0-id', ['sg-nfs-id']],
      ['private-1-id', ['sg-nfs-id']],
    ]);
    expect(ofType(r, 'aws:efs/accessPoint:AccessPoint').map((a) => [a.inputs['posixUser'], a.inputs['rootDirectory']])).toEqual([
      [
        { uid: 1000, gid: 1000 },
        { path: '/app', creationInfo: { ownerUid: 1000, ownerGid: 1000, permissions: '0750' } },
      ],
      [undefined, { path: '/logs' }],
    ]);
    const fsArn = run('storage/shared').outputs['arn'];
    expect(statements(one(r, 'aws:efs/fileSystemPolicy:FileSystemPolicy', 'policy'))).toEqual([
      {
        Sid: 'MountAndWriteThroughMountTargets',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        Resource: [fsArn],
        Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
      },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['*'],
        Resource: [fsArn],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    // production's backup says its window and retention: a plan of its own, EFS's automatic backups off.
    expect(one(r, 'aws:efs/backupPolicy:BackupPolicy', 'backup-policy').inputs['backupPolicy']).toEqual({ status: 'DISABLED' });
    expect(ofType(r, 'aws:backup/plan:Plan').map((p) => p.inputs['rules'])).toEqual(
      prod
        ? [
            [
              {
                ruleName: 'daily',
                targetVaultName: `cm-${env}-storage-shared`,
                schedule: 'cron(0 1 * * ? *)',
                startWindow: 120,
                lifecycle: { deleteAfter: 35 },
              },
            ],
          ]
        : [],
    );
    expect(ofType(r, 'aws:backup/selection:Selection').map((s) => s.inputs['resources'])).toEqual(prod ? [[fsArn]] : []);
    // A file system that says nothing of backups: EFS's automatic ones in production.
    const cache = run('storage/cache').resources;
    expect(one(cache, 'aws:efs/backupPolicy:BackupPolicy', 'backup-policy').inputs['backupPolicy']).toEqual({
      status: prod ? 'ENABLED' : 'DISABLED',
    });
    expect(one(cache, 'aws:efs/fileSystem:FileSystem', 'file-system').inputs).toMatchObject({
      performanceMode: 'maxIO',
      throughputMode: 'provisioned',
      provisionedThroughputInMibps: 64,
    });
    expect(ofType(cache, 'aws:efs/mountTarget:MountTarget').map((m) => m.inputs['securityGroups'])).toEqual([undefined, undefined]);
  });

  it('makes encrypted topics with their subscriptions, and lets the queue and the function receive', () => {
    const r = run('events/notify').resources;
    const topicArn = run('events/notify').outputs['arn'];
    expect(one(r, 'aws:sns/topic:Topic', 'topic').inputs).toMatchObject({
      kmsMasterKeyId: 'alias/aws/sns',
      signatureVersion: 2,
      fifoTopic: false,
      displayName: 'CM notifications',
    });
    expect(
      JSON.parse(String(one(r, 'aws:sns/topic:Topic', 'topic').inputs['deliveryPolicy'])).http.defaultHealthyRetryPolicy.numRetries,
    ).toBe(65);
    expect(
      ofType(r, 'aws:sns/topicSubscription:TopicSubscription').map((s) => [
        s.name,
        s.inputs['protocol'],
        s.inputs['filterPolicy'],
        s.inputs['rawMessageDelivery'],
      ]),
    ).toEqual([
      ['subscription-hook', 'https', undefined, false],
      ['subscription-oncall', 'email', undefined, undefined],
      ['subscription-orders', 'sqs', '{"type":["order"]}', true],
      ['subscription-resizer', 'lambda', undefined, undefined],
    ]);
    expect(one(r, 'aws:lambda/permission:Permission', 'subscription-resizer').inputs).toMatchObject({
      function: run('api/resizer').outputs['arn'],
      principal: 'sns.amazonaws.com',
      sourceArn: topicArn,
    });
    const queue = run('jobs/orders').outputs['arn'];
    const policy = one(r, 'aws:sqs/queuePolicy:QueuePolicy', 'queue-policy-0');
    expect(policy.inputs['queueUrl']).toBe(`https://sqs.eu-west-1.amazonaws.com/123456789012/cm-${env}-jobs-orders`);
    expect(statements(policy)).toEqual([
      {
        Sid: 'Allowsns0',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: ['sqs:SendMessage'],
        Resource: [queue],
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ]);
    expect(one(run('events/audit').resources, 'aws:sns/topic:Topic', 'topic').inputs['kmsMasterKeyId']).toBe(
      'arn:aws:kms:eu-west-1:123456789012:key/kms-data',
    );
    const ledger = one(run('events/ledger').resources, 'aws:sns/topic:Topic', 'topic').inputs;
    expect(ledger).toMatchObject({ name: `cm-${env}-events-ledger.fifo`, fifoTopic: true, contentBasedDeduplication: true });
    expect(ledger['kmsMasterKeyId']).toBeUndefined();
  });

  it('makes a bus with its archive and rules, each target let in where AWS checks it', () => {
    const r = run('events/bus').resources;
    const ruleArn = (name: string): string => expect.stringContaining(`eventrule/cm-${env}-events-bus-${name}`) as unknown as string;
    expect(one(r, 'aws:cloudwatch/eventArchive:EventArchive', 'archive').inputs).toMatchObject({
      eventSourceArn: run('events/bus').outputs['arn'],
      retentionDays: prod ? 365 : 30,
    });
    expect(ofType(r, 'aws:cloudwatch/eventRule:EventRule').map((e) => [e.inputs['name'], e.inputs['eventPattern']])).toEqual([
      [`cm-${env}-events-bus-audit`, '{"source":["cm.audit"]}'],
      [`cm-${env}-events-bus-orders`, '{"source":["cm.orders"],"detail-type":["OrderPlaced"]}'],
    ]);
    const dlq = run('jobs/events-dlq').outputs['arn'];
    expect(one(r, 'aws:cloudwatch/eventTarget:EventTarget', 'rule-orders-target-0').inputs).toMatchObject({
      arn: run('api/resizer').outputs['arn'],
      retryPolicy: { maximumRetryAttempts: 4, maximumEventAgeInSeconds: 7200 },
      deadLetterConfig: { arn: dlq },
    });
    expect(one(r, 'aws:cloudwatch/eventTarget:EventTarget', 'rule-orders-target-1').inputs).toMatchObject({
      input: '{"kind":"order"}',
      sqsTarget: { messageGroupId: 'orders' },
    });
    expect(one(r, 'aws:lambda/permission:Permission', 'rule-orders-target-0').inputs).toMatchObject({
      principal: 'events.amazonaws.com',
      sourceArn: ruleArn('orders'),
    });
    expect(ofType(r, 'aws:sqs/queuePolicy:QueuePolicy').map((p) => statements(p))).toEqual(
      [dlq, run('jobs/inbox').outputs['arn']].map((queue) => [
        {
          Sid: 'Allowevents0',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['sqs:SendMessage'],
          Resource: [queue],
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArn('orders') } },
        },
      ]),
    );
    const topic = run('events/notify').outputs['arn'];
    expect(statements(one(r, 'aws:sns/topicPolicy:TopicPolicy', 'topic-policy-0'))).toEqual([
      {
        Sid: 'AllowEventBridgeRules',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['sns:Publish'],
        Resource: [topic],
        Condition: { ArnEquals: { 'aws:SourceArn': [ruleArn('audit')] } },
      },
    ]);
    expect(ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => a.name)).toEqual([
      'alarm-rule-failures-audit',
      'alarm-rule-failures-orders',
    ]);
    // Schedules on the default bus.
    const nightly = run('events/nightly');
    expect(nightly.outputs).toEqual({ arn: 'arn:aws:events:eu-west-1:123456789012:event-bus/default', name: 'default' });
    expect(
      ofType(nightly.resources, 'aws:cloudwatch/eventRule:EventRule').map((e) => [e.inputs['scheduleExpression'], e.inputs['state']]),
    ).toEqual([
      ['cron(0 2 * * ? *)', 'ENABLED'],
      ['cron(0 0 ? * SUN *)', 'DISABLED'],
    ]);
    expect(ofType(nightly.resources, 'aws:cloudwatch/eventBus:EventBus')).toEqual([]);
  });

  it('makes MSK clusters in private subnets, encrypted at rest and in transit, with their auth, configuration and topics', () => {
    const r = run('stream/events').resources;
    const cluster = one(r, 'aws:msk/cluster:Cluster', 'cluster').inputs;
    expect(cluster).toMatchObject({
      kafkaVersion: '3.8.x',
      numberOfBrokerNodes: prod ? 4 : 2,
      brokerNodeGroupInfo: {
        instanceType: 'kafka.m7g.large',
        clientSubnets: ['private-0-id', 'private-1-id'],
        securityGroups: ['sg-kafka-id'],
        storageInfo: { ebsStorageInfo: { volumeSize: prod ? 500 : 100 } },
      },
      encryptionInfo: {
        encryptionAtRestKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/kms-data',
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      clientAuthentication: { sasl: { iam: true, scram: true }, unauthenticated: false },
      enhancedMonitoring: prod ? 'PER_TOPIC_PER_BROKER' : 'DEFAULT',
      loggingInfo: { brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: `/aws/msk/cm-${env}-stream-events` } } },
    });
    expect(Boolean((cluster['clientAuthentication'] as { tls?: unknown }).tls)).toBe(prod);
    expect(ofType(r, 'aws:acmpca/certificateAuthority:CertificateAuthority')).toHaveLength(prod ? 1 : 0);
    expect(ofType(r, 'aws:appautoscaling/target:Target').map((t) => t.inputs['maxCapacity'])).toEqual(prod ? [2000] : []);
    expect(one(r, 'aws:msk/configuration:Configuration', 'configuration').inputs['serverProperties']).toBe(
      `auto.create.topics.enable=false\ndefault.replication.factor=${prod ? 3 : 2}\nlog.retention.hours=168\nmin.insync.replicas=${prod ? 2 : 1}`,
    );
    expect(one(r, 'aws:msk/topic:Topic', 'topic-orders').inputs).toMatchObject({
      name: 'orders',
      partitionCount: 6,
      configs: '{"cleanup.policy":"delete","retention.ms":"259200000"}',
    });
    expect(
      ofType(r, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => (a.inputs['dimensions'] as Record<string, string>)['Broker ID']),
    ).toEqual(prod ? ['1', '2', '3', '4'] : ['1', '2']);
    // Kafka, on MSK: SCRAM users associated from Secrets Manager, clients pointed at SCRAM's TLS listener.
    const legacy = run('stream/legacy');
    expect(one(legacy.resources, 'aws:msk/cluster:Cluster', 'cluster').inputs).toMatchObject({
      kafkaVersion: '3.9.x',
      brokerNodeGroupInfo: { instanceType: 'kafka.m7g.large', storageInfo: { ebsStorageInfo: { volumeSize: 200 } } },
      clientAuthentication: { sasl: { iam: false, scram: true }, unauthenticated: false },
      encryptionInfo: { encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
    });
    expect(one(legacy.resources, 'aws:msk/scramSecretAssociation:ScramSecretAssociation', 'scram-users').inputs['secretArnLists']).toEqual([
      `${ARN}:AmazonMSK_cm_app-AbCdEf`,
    ]);
    expect(legacy.outputs['bootstrapBrokersTls']).toMatch(/:9096$/);
  });
});

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
async function translateAlone(kind: DeployedKind, spec: Record<string, unknown>, infra: Partial<StackInfra> = {}): Promise<MockedRun> {
  const [aws, translate] = await Promise.all([import('@pulumi/aws'), TRANSLATIONS[kind]!()]);
  return runWithMocks(async () => (await translate(scopeAlone(kind, spec, infra, aws))) as Record<string, unknown>);
}

/**
 * What a translation refuses, before it makes anything: with an AWS module that has nothing but
 * a provider, any resource it tried to make would fail otherwise (and a program failing under
 * the runtime's mocks leaves the runtime's own promises rejected).
 */
async function refusal(kind: DeployedKind, spec: Record<string, unknown>): Promise<string> {
  const translate = await TRANSLATIONS[kind]!();
  const aws = { Provider: class {} } as unknown as Aws;
  try {
    await translate(scopeAlone(kind, spec, {}, aws));
  } catch (e) {
    return (e as Error).message;
  }
  return 'no refusal';
}

describe('what the stack cannot show', () => {
  const taskDefinition = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/cm-dev-jobs-report:7';

  it('refuses what AWS cannot do, saying why', async () => {
    const lambda = { runtime: 'nodejs20.x', handler: 'a.b', code: { s3: { bucket: 'b', key: 'k' } } };
    const rule = (target: string) => ({ rules: [{ name: 'r', eventPattern: { source: ['x'] }, targets: [{ target }] }] });
    const refusals: Array<[DeployedKind, Record<string, unknown>, RegExp]> = [
      ['Lambda', { ...lambda, network: { assignPublicIp: true } }, /no public IP address/],
      [
        'EventBridge',
        { rules: [{ name: 'r', schedule: '@daily', targets: [{ target: 'arn:aws:lambda:eu-west-1:1:function:f' }] }] },
        /only on the default bus/,
      ],
      ['EventBridge', rule('arn:aws:ecs:eu-west-1:123456789012:service/cm-dev/worker'), /an ECS service, which EventBridge cannot start/],
      ['EventBridge', rule(taskDefinition), /needs the stack's ECS cluster and private subnets/],
      ['EBS', { sizeGb: 10, type: 'io2', throughputMbps: 500, availabilityZone: 'eu-west-1a' }, /io2 volume has no provisioned throughput/],
      ['EBS', { sizeGb: 10 }, /names none/],
      ['EC2Instance', { instanceType: 't3.micro', rootVolume: { type: 'gp2', iops: 3000 } }, /rootVolume.iops: a gp2 volume/],
      ['MSK', { brokers: 3, network: { securityGroups: ['kafka'] } }, /3 broker\(s\) over 2 subnet\(s\)/],
      ['MSK', { brokers: 2 }, /names none/],
      ['Kafka', { image: 'apache/kafka:3.8.0', network: { securityGroups: ['kafka'] } }, /not the image apache\/kafka:3.8.0/],
      ['Kafka', { tls: false, network: { securityGroups: ['kafka'] } }, /over TLS only/],
      [
        'Kafka',
        {
          brokers: 2,
          authentication: { users: [{ name: 'a', password: { secretRef: { provider: 'aws-secretsmanager', key: 'cm/kafka-a' } } }] },
        },
        /secrets named AmazonMSK_/,
      ],
      ['EFS', { performanceMode: 'max-io' }, /no max-io performance mode with elastic throughput/],
    ];
    for (const [kind, spec, message] of refusals) expect(await refusal(kind, spec), `${kind} ${JSON.stringify(spec)}`).toMatch(message);
  });

  it('runs a CronJob’s task from a rule when the cluster is given, with a role allowed that task alone', async () => {
    const cluster = 'arn:aws:ecs:eu-west-1:123456789012:cluster/cm-dev';
    const { resources } = await translateAlone(
      'EventBridge',
      { busName: 'default', rules: [{ name: 'report', schedule: 'rate(1 days)', targets: [{ target: taskDefinition }] }] },
      { platform: { clusterArn: cluster, subnetIds: { private: ['subnet-a'], public: [], isolated: [] } } },
    );
    expect(one(resources, 'aws:cloudwatch/eventRule:EventRule', 'rule-report').inputs['scheduleExpression']).toBe('rate(1 day)');
    expect(one(resources, 'aws:cloudwatch/eventTarget:EventTarget', 'rule-report-target-0').inputs).toMatchObject({
      arn: cluster,
      ecsTarget: {
        taskDefinitionArn: taskDefinition,
        launchType: 'FARGATE',
        taskCount: 1,
        networkConfiguration: { subnets: ['subnet-a'], assignPublicIp: false },
      },
    });
    expect(statements(one(resources, 'aws:iam/rolePolicy:RolePolicy', 'rule-report-target-0-role'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['ecs:RunTask'],
        Resource: ['arn:aws:ecs:eu-west-1:123456789012:task-definition/cm-dev-jobs-report:*'],
        Condition: { ArnEquals: { 'ecs:cluster': cluster } },
      },
      {
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: ['*'],
        Condition: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
  });

  it('reads a Kinesis stream with the statements the stack’s grants cannot give', async () => {
    const stream = 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks';
    const { resources } = await translateAlone('Lambda', {
      runtime: 'python3.12',
      handler: 'app.main',
      code: { s3: { bucket: 'arn:aws:s3:::cm-artifacts', key: 'k.zip' } },
      events: [{ type: 'kinesis', source: stream, batchSize: 500 }],
    });
    expect(one(resources, 'aws:lambda/function:Function', 'function').inputs['s3Bucket']).toBe('cm-artifacts');
    expect(one(resources, 'aws:lambda/eventSourceMapping:EventSourceMapping', 'event-0-kinesis').inputs).toMatchObject({
      eventSourceArn: stream,
      startingPosition: 'LATEST',
      batchSize: 500,
    });
    expect(statements(one(resources, 'aws:iam/rolePolicy:RolePolicy', 'task-role-deployer-grants'))).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'kinesis:DescribeStream',
          'kinesis:DescribeStreamSummary',
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
          'kinesis:ListShards',
          'kinesis:SubscribeToShard',
        ],
        Resource: [stream],
      },
    ]);
  });

  it('writes schedules, versions and architectures as AWS takes them', () => {
    expect(
      ['*/15 * * * *', '0 9 * * 0,6', '30 4 1 * *', '0 8 * * 1#2', '0 12 * * MON-FRI', 'rate(1 hours)', '0 5 ? * 3 2027'].map((s) =>
        awsSchedule(s, 'x'),
      ),
    ).toEqual([
      'cron(*/15 * * * ? *)',
      'cron(0 9 ? * 1,7 *)',
      'cron(30 4 1 * ? *)',
      'cron(0 8 ? * 2#2 *)',
      'cron(0 12 ? * MON-FRI *)',
      'rate(1 hour)',
      'cron(0 5 ? * 3 2027)',
    ]);
    expect(() => awsSchedule('0 3 1 * 1', 'x')).toThrow(/both a day of the month and of the week/);
    expect(() => awsSchedule('0 3 * * */2', 'x')).toThrow(/no step/);
    expect(['3.6.0', '3.7.2', '3.9.1', '4.0.0', undefined].map(mskVersion)).toEqual(['3.6.0', '3.7.x', '3.9.x', '4.0.x', '3.8.x']);
    expect(['t4g.small', 'm7g.large', 'c6gn.xlarge', 'x2gd.medium', 'g5.xlarge', 'm5.large', 't3.micro'].map(architectureOf)).toEqual([
      'arm64',
      'arm64',
      'arm64',
      'arm64',
      'x86_64',
      'x86_64',
      'x86_64',
    ]);
  });
});

describe.each(['dev', 'production'])('a Lambda reading a Kafka topic, behind a function URL, in %s', (env) => {
  it('reads the topic as a member of a consumer group, and is reached by its URL signed (dev) or by anyone (production)', async () => {
    const { runs } = await translateStack(fixture, env, given);
    const r = runs.get('api/resizer')!;
    const mapping = r.resources.find((x) => x.type === 'aws:lambda/eventSourceMapping:EventSourceMapping' && x.name === 'event-1-msk')!;
    const cluster = String(runs.get('stream/events')!.outputs['arn']);
    expect(mapping.inputs).toMatchObject({ eventSourceArn: cluster, topics: ['orders'], batchSize: 500, startingPosition: 'LATEST' });
    const policies = r.resources
      .filter((x) => x.type === 'aws:iam/rolePolicy:RolePolicy')
      .map((x) => JSON.parse(String(x.inputs['policy'])) as { Statement: Array<{ Action: string[]; Resource: string[] }> });
    const statements = policies.flatMap((p) => p.Statement);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      Resource: [`${cluster.replace(':cluster/', ':topic/')}/orders`],
    });
    const url = r.resources.find((x) => x.type === 'aws:lambda/functionUrl:FunctionUrl')!;
    const production = env === 'production';
    expect(url.inputs['authorizationType']).toBe(production ? 'NONE' : 'AWS_IAM');
    const open = r.resources
      .filter((x) => x.type === 'aws:lambda/permission:Permission' && x.name.startsWith('url-public'))
      .map((x) => x.inputs['action']);
    expect(open.sort()).toEqual(production ? ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'] : []);
    expect(runs.get('api/resizer')!.outputs['url']).toMatch(/^https:\/\//);
    expect(runs.get('api/handler')!.outputs['url']).toBe('');
  });
});
