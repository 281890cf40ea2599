/**
 * SNS on AWS: a topic (FIFO when asked) encrypted at rest (the AWS key for SNS, or a key of the
 * stack by name; `encryption.enabled: false` turns it off), signing its messages with SHA256,
 * and its subscriptions with their filter policies and raw delivery. What a subscriber needs to
 * receive is made with them: a queue of the stack is given a policy letting this topic send to
 * it, a function the permission to be invoked by it, a Firehose stream a role SNS writes with.
 * HTTP(S) endpoints are retried with backoff for most of an hour (AWS's default gives up after three
 * tries in twenty seconds). CloudWatch has none of Observability's alert metrics for a topic
 * (its failures are counts, not a rate of anything the topic knows).
 */
import type * as awsModule from '@pulumi/aws';
import { DeployerError } from '../../../errors.js';
import { policyDocument, trustPolicy } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { alarmsFor, queuePolicies } from './compute-messaging.js';

interface Subscription {
  name?: string;
  protocol: 'sqs' | 'lambda' | 'https' | 'http' | 'email' | 'email-json' | 'sms' | 'firehose';
  endpoint: string;
  filterPolicy?: Record<string, unknown>;
  rawMessageDelivery?: boolean;
}

interface SNSSpec {
  topicName?: string;
  displayName?: string;
  fifo?: boolean;
  contentBasedDeduplication?: boolean;
  subscriptions?: Subscription[];
  encryption?: { enabled: boolean; kmsKeyId?: string };
}

const RAW_PROTOCOLS = new Set(['sqs', 'http', 'https', 'firehose']);

/** Retries of HTTP(S) deliveries: 3 at once, then backing off to one a minute, for some 55 minutes (SNS allows an hour at most). */
const HTTP_DELIVERY = {
  http: {
    defaultHealthyRetryPolicy: {
      numNoDelayRetries: 3,
      minDelayTarget: 1,
      maxDelayTarget: 60,
      numMinDelayRetries: 2,
      numMaxDelayRetries: 50,
      numRetries: 65,
      backoffFunction: 'exponential',
    },
    disableSubscriptionOverrides: false,
  },
};

export function translateSNS(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as SNSSpec;
  const fifo = spec.fifo ?? false;
  const subscriptions = spec.subscriptions ?? [];
  subscriptions.forEach((s, i) => {
    if (s.rawMessageDelivery && !RAW_PROTOCOLS.has(s.protocol))
      throw new DeployerError(
        'INVALID_INPUT',
        `${scope.id}: subscriptions[${i}]: SNS delivers raw messages to sqs, http(s) and firehose only, not ${s.protocol}`,
      );
  });
  const topic = new aws.sns.Topic(
    'topic',
    {
      name: spec.topicName ?? scope.physicalName({ max: 256, suffix: fifo ? '.fifo' : '' }),
      fifoTopic: fifo,
      ...(fifo ? { contentBasedDeduplication: spec.contentBasedDeduplication ?? false } : {}),
      ...(spec.displayName ? { displayName: spec.displayName } : {}),
      ...(spec.encryption?.enabled === false ? {} : { kmsMasterKeyId: scope.kmsKey(spec.encryption?.kmsKeyId) ?? 'alias/aws/sns' }),
      signatureVersion: 2,
      ...(subscriptions.some((s) => s.protocol.startsWith('http')) ? { deliveryPolicy: JSON.stringify(HTTP_DELIVERY) } : {}),
    },
    scope.opts(),
  );
  const firehoseRole = firehoseWriter(scope, subscriptions, topic);
  subscriptions.forEach((s, i) => subscribe(scope, topic, s, i, firehoseRole));
  queuePolicies(
    scope,
    subscriptions
      .filter((s) => s.protocol === 'sqs')
      .map((s) => ({ queueArn: s.endpoint, service: 'sns.amazonaws.com', sourceArn: topic.arn })),
    topic,
  );
  alarmsFor(scope, {});
  return { topicArn: topic.arn, arn: topic.arn, name: topic.name };
}

function subscribe(scope: AwsScope, topic: awsModule.sns.Topic, s: Subscription, i: number, firehoseRole?: awsModule.iam.Role): void {
  const { aws } = scope;
  const name = `subscription-${s.name ?? i}`;
  const invoke =
    s.protocol === 'lambda'
      ? [
          new aws.lambda.Permission(
            name,
            { action: 'lambda:InvokeFunction', function: s.endpoint, principal: 'sns.amazonaws.com', sourceArn: topic.arn },
            scope.opts({ parent: topic }),
          ),
        ]
      : [];
  new aws.sns.TopicSubscription(
    name,
    {
      topic: topic.arn,
      protocol: s.protocol,
      endpoint: s.endpoint,
      ...(s.filterPolicy ? { filterPolicy: JSON.stringify(s.filterPolicy) } : {}),
      ...(RAW_PROTOCOLS.has(s.protocol) ? { rawMessageDelivery: s.rawMessageDelivery ?? false } : {}),
      ...(s.protocol === 'firehose' ? { subscriptionRoleArn: firehoseRole!.arn } : {}),
    },
    scope.opts({ parent: topic, dependsOn: invoke }),
  );
}

/** The role SNS writes to the topic's Firehose subscribers with (only those streams). */
function firehoseWriter(scope: AwsScope, subscriptions: Subscription[], topic: awsModule.sns.Topic): awsModule.iam.Role | undefined {
  const streams = [...new Set(subscriptions.filter((s) => s.protocol === 'firehose').map((s) => s.endpoint))].sort();
  if (streams.length === 0) return undefined;
  const role = new scope.aws.iam.Role(
    'firehose-role',
    { name: scope.physicalName({ max: 64, suffix: '-firehose' }), assumeRolePolicy: trustPolicy(['sns.amazonaws.com']) },
    scope.opts({ parent: topic }),
  );
  new scope.aws.iam.RolePolicy(
    'firehose-role',
    {
      role: role.name,
      policy: policyDocument([
        {
          Effect: 'Allow',
          Action: ['firehose:DescribeDeliveryStream', 'firehose:PutRecord', 'firehose:PutRecordBatch'],
          Resource: streams,
        },
      ]),
    },
    scope.opts({ parent: role }),
  );
  return role;
}
