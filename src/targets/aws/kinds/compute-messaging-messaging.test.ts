/**
 * The aws target's messaging kinds (test/fixtures/aws-compute-messaging: SNS, EventBridge, MSK
 * and Kafka, around queues and a function) under Pulumi's runtime mocks: encrypted topics and
 * their subscriptions, a bus with its rules and the policies letting each target in, MSK clusters
 * with their auth and topics. Their golden files (test/fixtures/aws-golden/compute-messaging/) are
 * written by compute-messaging-compute.test.ts; the assertions say what a reviewer must find there.
 * What the stack cannot show (refusals, an ECS target, schedules, versions and architectures as
 * AWS takes them) is translated alone.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ARN, one, ofType, refusal, statements, translateAlone, translateFixture } from '../../../../test/helpers/aws-compute-messaging.js';
import type { TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import type { DeployedKind } from '../../../model/documents.js';
import type { MockedRun } from '../mocks.js';
import { awsSchedule } from './compute-messaging.js';
import { architectureOf } from './ec2-instance.js';
import { mskVersion } from './kafka.js';

describe.each(['dev', 'production'])('the aws-compute-messaging stack in %s', (env) => {
  const prod = env === 'production';
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id) ?? expect.fail(`no run of ${id}`);
  beforeAll(async () => {
    stack = await translateFixture(env, [], []);
  }, 120_000);
  afterAll(() => vi.restoreAllMocks());

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
