/**
 * What invokes a Lambda function on AWS (its `events`). Lambda polls queues and streams itself:
 * an SQS queue, a DynamoDB stream, a Kinesis stream or an MSK topic becomes an event source mapping, read
 * with the function's role (the stack's grants give it `consume` access to what it names as an
 * event source; Kinesis, which no kind of the stack makes, gets its read statements here).
 * Services that push instead invoke it through its resource policy: an SNS topic through a
 * subscription, a bucket through its notification configuration, EventBridge through a rule
 * (a schedule through a rule on the default bus), each with the permission to invoke it from
 * that source alone.
 */
import type * as awsModule from '@pulumi/aws';
import type { IamStatement } from '../iam.js';
import type { AwsScope } from '../scope.js';
import { arnParts, awsSchedule } from './compute-messaging.js';

export interface LambdaEvent {
  type: 'sqs' | 'sns' | 'schedule' | 'eventbridge' | 's3' | 'dynamodb-stream' | 'kinesis' | 'msk';
  /** The source's ARN, resolved (a queue's, topic's, bucket's, table stream's, stream's, bus's). */
  source?: string;
  schedule?: string;
  batchSize?: number;
  maxBatchingWindow?: number;
  enabled?: boolean;
  /** msk: the topic read. */
  topic?: string;
}

/**
 * Statements the function's role needs to read its event sources that the stack's grants do not
 * give: Kinesis streams (no kind of the stack makes one), and of an MSK cluster its topic and
 * its consumer group (Lambda reads as a member of a group named after the mapping) and the
 * network interfaces Lambda makes in the cluster's subnets to reach it.
 */
export function eventSourceStatements(events: LambdaEvent[]): IamStatement[] {
  const streams = events.filter((e) => e.type === 'kinesis').map((e) => e.source!);
  const kafka = events.filter((e) => e.type === 'msk');
  return [...(streams.length > 0 ? kinesisStatements(streams) : []), ...(kafka.length > 0 ? mskStatements(kafka) : [])];
}

/** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>` -> the ARN of its `kind` (topic, group) named `name`. */
const kafkaArn = (cluster: string, kind: 'topic' | 'group', name: string): string => `${cluster.replace(':cluster/', `:${kind}/`)}/${name}`;

function mskStatements(events: LambdaEvent[]): IamStatement[] {
  return [
    {
      Effect: 'Allow',
      Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      Resource: [...new Set(events.map((e) => kafkaArn(e.source!, 'topic', e.topic!)))].sort(),
    },
    {
      Effect: 'Allow',
      Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      Resource: [...new Set(events.map((e) => kafkaArn(e.source!, 'group', '*')))].sort(),
    },
    {
      // EC2 has no narrower resource for these: Lambda makes its interfaces in the cluster's subnets.
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
  ];
}

function kinesisStatements(streams: string[]): IamStatement[] {
  return [
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
      Resource: [...new Set(streams)].sort(),
    },
  ];
}

/** The event sources of `fn`, each as AWS keeps it. */
export function addEventSources(scope: AwsScope, fn: awsModule.lambda.Function, events: LambdaEvent[]): void {
  const buckets = new Map<string, number[]>();
  events.forEach((e, i) => {
    const enabled = e.enabled ?? true;
    switch (e.type) {
      case 'sqs':
      case 'dynamodb-stream':
      case 'kinesis':
      case 'msk':
        return mapping(scope, fn, e, i, enabled);
      case 'sns':
        // A subscription cannot be paused: a disabled one is not made.
        return enabled ? snsSubscription(scope, fn, e.source!, i) : undefined;
      case 's3':
        if (enabled) buckets.set(e.source!, [...(buckets.get(e.source!) ?? []), i]);
        return;
      case 'eventbridge':
      case 'schedule':
        return rule(scope, fn, e, i, enabled);
      default:
        return;
    }
  });
  [...buckets].forEach(([bucketArn, indexes]) => bucketNotification(scope, fn, bucketArn, indexes[0]!));
}

/** Lambda polls the queue or the stream (starting with what arrives from now on, for a stream). */
function mapping(scope: AwsScope, fn: awsModule.lambda.Function, e: LambdaEvent, i: number, enabled: boolean): void {
  new scope.aws.lambda.EventSourceMapping(
    `event-${i}-${e.type}`,
    {
      functionName: fn.arn,
      eventSourceArn: e.source!,
      enabled,
      ...(e.batchSize !== undefined ? { batchSize: e.batchSize } : {}),
      ...(e.maxBatchingWindow !== undefined ? { maximumBatchingWindowInSeconds: e.maxBatchingWindow } : {}),
      ...(e.type === 'sqs' ? {} : { startingPosition: 'LATEST' }),
      ...(e.type === 'msk' ? { topics: [e.topic!] } : {}),
    },
    scope.opts({ parent: fn }),
  );
}

function permission(
  scope: AwsScope,
  fn: awsModule.lambda.Function,
  name: string,
  principal: string,
  sourceArn: awsModule.lambda.PermissionArgs['sourceArn'],
  sourceAccount?: awsModule.lambda.PermissionArgs['sourceAccount'],
): awsModule.lambda.Permission {
  return new scope.aws.lambda.Permission(
    name,
    { action: 'lambda:InvokeFunction', function: fn.name, principal, sourceArn, ...(sourceAccount ? { sourceAccount } : {}) },
    scope.opts({ parent: fn }),
  );
}

function snsSubscription(scope: AwsScope, fn: awsModule.lambda.Function, topicArn: string, i: number): void {
  const allowed = permission(scope, fn, `event-${i}-sns`, 'sns.amazonaws.com', topicArn);
  new scope.aws.sns.TopicSubscription(
    `event-${i}-sns`,
    { topic: topicArn, protocol: 'lambda', endpoint: fn.arn },
    scope.opts({ parent: fn, dependsOn: [allowed] }),
  );
}

/**
 * The bucket's notification configuration, calling the function when an object is created. S3
 * keeps one configuration per bucket: this function's component owns it (another component
 * notified by the same bucket would replace it; the bucket's owner account alone may invoke).
 */
function bucketNotification(scope: AwsScope, fn: awsModule.lambda.Function, bucketArn: string, i: number): void {
  const account = scope.aws.getCallerIdentityOutput({}, { provider: scope.provider }).accountId;
  const allowed = permission(scope, fn, `event-${i}-s3`, 's3.amazonaws.com', bucketArn, account);
  new scope.aws.s3.BucketNotification(
    `event-${i}-s3`,
    { bucket: arnParts(bucketArn).name, lambdaFunctions: [{ lambdaFunctionArn: fn.arn, events: ['s3:ObjectCreated:*'] }] },
    scope.opts({ parent: fn, dependsOn: [allowed] }),
  );
}

/**
 * A rule calling the function: every event of the bus named (the event gives no pattern), or a
 * schedule (EventBridge schedules rules on the default bus only). A disabled event keeps its
 * rule, disabled.
 */
function rule(scope: AwsScope, fn: awsModule.lambda.Function, e: LambdaEvent, i: number, enabled: boolean): void {
  const { aws } = scope;
  const schedule = e.type === 'schedule';
  const eventRule = new aws.cloudwatch.EventRule(
    `event-${i}-${e.type}`,
    {
      name: scope.physicalName({ max: 64, suffix: `-event-${i}` }),
      description: schedule ? `Runs ${scope.id} at ${e.schedule} (deployer)` : `Every event of the bus, to ${scope.id} (deployer)`,
      state: enabled ? 'ENABLED' : 'DISABLED',
      ...(schedule
        ? { scheduleExpression: awsSchedule(e.schedule!, `${scope.id}: events[${i}].schedule`) }
        : // Every event has a source: a prefix of "" matches them all.
          { eventBusName: e.source!, eventPattern: JSON.stringify({ source: [{ prefix: '' }] }) }),
    },
    scope.opts({ parent: fn }),
  );
  const allowed = permission(scope, fn, `event-${i}-${e.type}`, 'events.amazonaws.com', eventRule.arn);
  new aws.cloudwatch.EventTarget(
    `event-${i}-${e.type}`,
    { rule: eventRule.name, arn: fn.arn, ...(schedule ? {} : { eventBusName: e.source! }) },
    scope.opts({ parent: eventRule, dependsOn: [allowed] }),
  );
}
