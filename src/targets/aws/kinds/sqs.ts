/**
 * SQS on AWS: a queue (FIFO when asked) encrypted at rest (SQS-managed keys, or a KMS key of
 * the stack by name), with a dead-letter queue when `deadLetter` is set: the one named, or one
 * made beside it (`<name>-dlq`, allowed to receive only from this queue). Alarms: queue depth,
 * the oldest message's age, messages in the dead-letter queue.
 */
import type { Input } from '@pulumi/pulumi';
import { addAlarms } from '../alarms.js';
import type { AwsScope, Outputs } from '../scope.js';

interface SqsSpec {
  queueName?: string;
  fifo?: boolean;
  contentBasedDeduplication?: boolean;
  visibilityTimeout?: number;
  messageRetention?: number;
  delay?: number;
  maxMessageSize?: number;
  receiveWaitTime?: number;
  deadLetter?: { maxReceiveCount: number; queue?: string; messageRetention?: number };
  encryption?: { enabled?: boolean; kmsKeyId?: string };
}

export function translateSQS(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as SqsSpec;
  const fifo = spec.fifo ?? false;
  const name = spec.queueName ?? scope.physicalName({ max: 80, suffix: fifo ? '.fifo' : '' });
  const encryption = (): { kmsMasterKeyId: string } | { sqsManagedSseEnabled: true } =>
    spec.encryption?.kmsKeyId ? { kmsMasterKeyId: scope.kmsKey(spec.encryption.kmsKeyId)! } : { sqsManagedSseEnabled: true };
  let deadLetterArn: Input<string> | undefined;
  let dlq: InstanceType<typeof aws.sqs.Queue> | undefined;
  if (spec.deadLetter?.queue) deadLetterArn = spec.deadLetter.queue;
  else if (spec.deadLetter) {
    dlq = new aws.sqs.Queue(
      'dead-letter',
      {
        name: fifo ? name.replace(/\.fifo$/, '-dlq.fifo') : `${name.slice(0, 76)}-dlq`,
        fifoQueue: fifo,
        messageRetentionSeconds: spec.deadLetter.messageRetention ?? 1_209_600,
        ...encryption(),
      },
      scope.opts(),
    );
    deadLetterArn = dlq.arn;
  }
  const queue = new aws.sqs.Queue(
    'queue',
    {
      name,
      fifoQueue: fifo,
      ...(fifo ? { contentBasedDeduplication: spec.contentBasedDeduplication ?? false } : {}),
      visibilityTimeoutSeconds: spec.visibilityTimeout ?? 30,
      messageRetentionSeconds: spec.messageRetention ?? 345_600,
      delaySeconds: spec.delay ?? 0,
      maxMessageSize: spec.maxMessageSize ?? 262_144,
      receiveWaitTimeSeconds: spec.receiveWaitTime ?? 0,
      ...encryption(),
      ...(deadLetterArn && spec.deadLetter
        ? {
            redrivePolicy: scope.pulumi.jsonStringify({
              deadLetterTargetArn: deadLetterArn,
              maxReceiveCount: spec.deadLetter.maxReceiveCount,
            }),
          }
        : {}),
    },
    scope.opts(),
  );
  // The dead-letter queue made for this one takes messages from it alone.
  if (dlq)
    new aws.sqs.RedriveAllowPolicy(
      'dead-letter',
      { queueUrl: dlq.url, redriveAllowPolicy: scope.pulumi.jsonStringify({ redrivePermission: 'byQueue', sourceQueueArns: [queue.arn] }) },
      scope.opts({ parent: dlq }),
    );
  const queueMetric = (queueName: Input<string>, metricName: string, statistic = 'Maximum') => ({
    namespace: 'AWS/SQS',
    metricName,
    dimensions: { QueueName: queueName },
    statistic,
  });
  addAlarms(scope, {
    'queue-depth': queueMetric(queue.name, 'ApproximateNumberOfMessagesVisible'),
    'queue-oldest-message-age': queueMetric(queue.name, 'ApproximateAgeOfOldestMessage'),
    ...(dlq ? { 'dead-letter-messages': queueMetric(dlq.name, 'ApproximateNumberOfMessagesVisible') } : {}),
  });
  return { url: queue.url, arn: queue.arn, name: queue.name, deadLetterArn: deadLetterArn ?? '' };
}
