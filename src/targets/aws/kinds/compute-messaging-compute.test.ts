/**
 * The aws target's compute kinds (test/fixtures/aws-compute-messaging: Lambda and EC2Instance,
 * around queues, a bucket and the messaging kinds) under Pulumi's runtime mocks. Each component's
 * resources of the file's kinds (Lambda, EC2Instance, EBS, EFS, SNS, EventBridge, MSK, Kafka) are
 * kept as a golden file (test/fixtures/aws-golden/compute-messaging/), with the outputs each kind
 * declares; the assertions say what a reviewer must find there for functions and instances. What
 * the stack cannot show (a Lambda reading Kinesis) is translated alone. Storage is in
 * compute-messaging-storage.test.ts, messaging and the refusals in compute-messaging-messaging.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ARN,
  declaredOutputs,
  fixture,
  given,
  golden,
  KINDS,
  one,
  ofType,
  statements,
  translateAlone,
  translateFixture,
  type Options,
} from '../../../../test/helpers/aws-compute-messaging.js';
import { renderRun, translateStack, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { repoRoot } from '../../../../test/helpers/testdir.js';
import { MOCK_SECRET_VALUE, type MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-compute-messaging stack in %s', (env) => {
  const prod = env === 'production';
  let stack: TranslatedStack;
  const options: Options[] = [];
  const warnings: string[] = [];
  const run = (id: string): MockedRun => stack.runs.get(id) ?? expect.fail(`no run of ${id}`);
  beforeAll(async () => {
    stack = await translateFixture(env, options, warnings);
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
});

describe('what the stack cannot show', () => {
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
