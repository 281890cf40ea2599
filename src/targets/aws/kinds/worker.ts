/**
 * Worker on AWS: an ECS service on Fargate with no load balancer (task definition, roles and
 * placement in ecs.ts; deployment, autoscaling and alarms in ecs-service.ts). Its health is a
 * command ECS runs in the container. Scaling on a queue (`autoscaling.queue`) tracks the
 * backlog per task: the queue's visible messages divided by the service's running tasks, as
 * metric math in a target-tracking policy, which is what AWS recommends for SQS consumers
 * (the queue's depth alone does not say whether there are too few workers or too many).
 */
import { DeployerError } from '../../../errors.js';
import type { MetricCatalog } from '../alarms.js';
import type { AwsScope, Outputs } from '../scope.js';
import { capacityProviders, placement, taskDefinition, type ContainerSpec } from './ecs.js';
import {
  autoscale,
  componentAlarms,
  deploymentOf,
  desiredCount,
  ecsService,
  serviceMetrics,
  type AutoscalingSpec,
  type ScalingPolicy,
  type StrategySpec,
} from './ecs-service.js';

interface WorkerSpec extends ContainerSpec {
  replicas?: number;
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; gracePeriod?: number };
  autoscaling?: AutoscalingSpec;
  strategy?: StrategySpec;
  rollback?: string;
}

export function translateWorker(scope: AwsScope): Outputs {
  const spec = scope.spec as unknown as WorkerSpec;
  const replicas = spec.replicas ?? 1;
  const scaling = spec.autoscaling;
  const queue = scaling?.enabled !== false ? scaling?.queue : undefined;
  const serviceName = scope.physicalName({ max: 255 });
  // What may be refused is decided before anything is made.
  const capacity = capacityProviders(scope, spec.launchType);
  const backlog = queue ? backlogPolicy(scope, serviceName, queue) : undefined;
  const deployment = deploymentOf(scope, spec.strategy, spec.rollback, replicas, false);
  const task = taskDefinition(scope, spec, spec.healthCheck ? { healthCheck: spec.healthCheck } : {});
  const { alarms, rollbackAlarmNames } = componentAlarms(scope, {
    ...serviceMetrics(scope, serviceName),
    ...(queue ? queueMetrics(queue.source) : {}),
  });
  const service = ecsService(scope, serviceName, {
    task,
    capacity,
    placement: placement(scope, spec),
    desiredCount: desiredCount(replicas, scaling),
    autoscaled: scaling !== undefined && scaling.enabled !== false,
    deployment,
    alarmNames: rollbackAlarmNames,
    dependsOn: alarms,
  });
  autoscale(scope, scaling, serviceName, service, backlog ? [backlog] : []);
  return { arn: service.arn, name: service.name };
}

/** The queue the worker scales on, as its alerts may measure it (its backlog is the worker's). */
function queueMetrics(queueName: string): MetricCatalog {
  const metric = (metricName: string) => ({ namespace: 'AWS/SQS', metricName, dimensions: { QueueName: queueName }, statistic: 'Maximum' });
  return {
    'queue-depth': metric('ApproximateNumberOfMessagesVisible'),
    'queue-oldest-message-age': metric('ApproximateAgeOfOldestMessage'),
  };
}

/**
 * Backlog per task: visible messages / running tasks, tracked at targetMessagesPerTask. The
 * running tasks are Container Insights' RunningTaskCount (AWS/ECS has no task count), so the
 * stack's Observability must turn Container Insights on; with no task running the backlog
 * counts as one task's, so that the service scales out from zero.
 */
function backlogPolicy(scope: AwsScope, serviceName: string, queue: NonNullable<AutoscalingSpec['queue']>): ScalingPolicy {
  if (scope.infra.observability.containerInsights !== true)
    throw new DeployerError('APPLY_FAILED', `${scope.id}: scaling on a queue's backlog per task needs ECS Container Insights' task count`, {
      details: ['set metrics.containerInsights: true in the stack’s Observability document'],
    });
  const clusterName = scope.platform<string>('clusterName', 'it runs on the stack’s ECS cluster');
  return {
    name: 'queue',
    config: {
      targetValue: queue.targetMessagesPerTask,
      customizedMetricSpecification: {
        metrics: [
          {
            id: 'visible',
            label: 'visible messages',
            returnData: false,
            metricStat: {
              stat: 'Sum',
              metric: {
                namespace: 'AWS/SQS',
                metricName: 'ApproximateNumberOfMessagesVisible',
                dimensions: [{ name: 'QueueName', value: queue.source }],
              },
            },
          },
          {
            id: 'running',
            label: 'running tasks',
            returnData: false,
            metricStat: {
              stat: 'Average',
              metric: {
                namespace: 'ECS/ContainerInsights',
                metricName: 'RunningTaskCount',
                dimensions: [
                  { name: 'ClusterName', value: clusterName },
                  { name: 'ServiceName', value: serviceName },
                ],
              },
            },
          },
          {
            id: 'backlog',
            label: 'visible messages per running task',
            expression: 'visible / IF(FILL(running, 0) < 1, 1, FILL(running, 0))',
            returnData: true,
          },
        ],
      },
    },
  };
}
