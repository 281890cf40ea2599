/**
 * What a MicroService and a Worker share as ECS services (ecs.ts has their task definition):
 * how a new version replaces the old one (spec.strategy as ECS's rolling update or its native
 * blue-green, canary and linear strategies; the deployment circuit breaker and the CloudWatch
 * alarms that roll a failing deployment back when spec.rollback is auto), the service itself,
 * its autoscaling (target tracking between min and max), and its alarms (with metric math of
 * its own over several target groups, seconds shown as milliseconds).
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Resource } from '@pulumi/pulumi';
import type { ComponentAlarm } from '../../../model/stack-infra.js';
import { durationMs } from '../../../util/duration.js';
import { addAlarms, alarmName, measures, type ExpressionRef, type MetricCatalog, type MetricRef } from '../alarms.js';
import type { AwsScope } from '../scope.js';
import type { Capacity, Placement, Task } from './ecs.js';

export interface StrategySpec {
  type?: 'rolling' | 'blue-green' | 'canary' | 'big-bang';
  maxUnavailable?: number | string;
  maxSurge?: number | string;
  canary?: {
    percentage?: number;
    steps?: Array<{ percentage: number; bakeTime?: string | number }>;
    bakeTime?: string | number;
    maxErrorRate?: number;
  };
  blueGreen?: { testListenerPort?: number; terminationWait?: string | number };
  timeout?: string | number;
}

export interface AutoscalingSpec {
  enabled?: boolean;
  min: number;
  max: number;
  targetCpu?: number;
  targetMemory?: number;
  targetRequestsPerTask?: number;
  queue?: { source: string; targetMessagesPerTask: number };
  scaleInCooldown?: string | number;
  scaleOutCooldown?: string | number;
}

/** How the service deploys a new version. */
export interface Deployment {
  /** ECS's native BLUE_GREEN, CANARY or LINEAR: each load balancer needs an alternate target group. */
  shiftsTraffic: boolean;
  /** The service's deployment settings. */
  args: Pick<
    awsModule.ecs.ServiceArgs,
    'deploymentConfiguration' | 'deploymentMinimumHealthyPercent' | 'deploymentMaximumPercent' | 'deploymentCircuitBreaker'
  >;
  /** How long a deployment may take before it counts as failed (strategy.timeout and every bake). */
  timeoutMinutes: number;
  /** Whether ECS rolls a failed deployment back itself (spec.rollback auto). */
  rollback: boolean;
  /** A canary's largest 5xx share (percent): above it, the deployment fails. */
  maxErrorRate?: number;
}

/** ECS's waits are whole minutes, 0 to 1440. */
const minutes = (d: string | number | undefined, fallback: string): number => Math.min(1440, Math.ceil(durationMs(d, fallback) / 60_000));

/** ECS's deployment from spec.strategy and spec.rollback; `balanced`: a load balancer routes to the service. */
export function deploymentOf(
  scope: AwsScope,
  strategy: StrategySpec | undefined,
  rollbackSpec: string | undefined,
  replicas: number,
  balanced: boolean,
): Deployment {
  const s = strategy ?? {};
  const rollback = (rollbackSpec ?? 'auto') === 'auto';
  // The circuit breaker always stops a deployment whose tasks keep failing; it goes back only when rollback is auto.
  const common = { deploymentCircuitBreaker: { enable: true, rollback } };
  // Pulumi waits for the service to be steady (ECS's own timeout does not exist): the default is the provider's 20 minutes.
  const timeout = minutes(s.timeout, '20m');
  const type = s.type ?? 'rolling';
  // A rollback (`deployer rollback`) goes the fastest safe way, as on the local target: the
  // whole old version at once beside what serves, then one switch; no steps, no bake, never stop-first.
  const rollingBack = scope.context?.rollback === true;
  if (type === 'rolling' || type === 'big-bang') {
    const [min, max] = rollingBack ? [100, 200] : type === 'big-bang' ? [0, 100] : rollingPercents(s, replicas);
    return {
      shiftsTraffic: false,
      rollback,
      timeoutMinutes: timeout,
      args: {
        ...common,
        deploymentConfiguration: { strategy: 'ROLLING' },
        deploymentMinimumHealthyPercent: min,
        deploymentMaximumPercent: max,
      },
    };
  }
  if (type === 'canary' && balanced && !rollingBack) return canary(scope, s, common, rollback, timeout);
  if (type === 'canary' && !balanced)
    scope.pulumi.log.warn(`${scope.id}: a canary splits a load balancer's traffic, and none routes to it: deployed blue-green`);
  const bake = rollingBack ? 0 : minutes(s.blueGreen?.terminationWait, '0s');
  return {
    shiftsTraffic: balanced,
    rollback,
    timeoutMinutes: timeout + bake,
    args: { ...common, deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: String(bake) } },
  };
}

/**
 * Rolling: maxUnavailable and maxSurge (tasks, or percentages of replicas) as ECS's minimum
 * healthy and maximum percents. ECS rounds the minimum up and the maximum down, so counts
 * are turned into percents that give at least those tasks. As on the local target, one task
 * surges when neither lets the rollout move.
 */
function rollingPercents(s: StrategySpec, replicas: number): [number, number] {
  const r = Math.max(1, replicas);
  const pct = (v: number | string | undefined, fallback: number): number =>
    v === undefined ? (100 * fallback) / r : typeof v === 'number' ? (100 * v) / r : Number(v.replace('%', ''));
  const down = pct(s.maxUnavailable, 0);
  let up = pct(s.maxSurge, 1);
  if (down === 0 && up === 0) up = 100 / r;
  return [Math.max(0, Math.floor(100 - down)), Math.min(200, Math.max(100, Math.ceil(100 + up)))];
}

/**
 * A canary on ECS's native strategies: CANARY shifts one share of the traffic, bakes, then
 * shifts the rest; LINEAR shifts equal shares with a bake after each. Steps 10%, 20%, 30% ...
 * (equal, up to the last share before 100%) with one bake time are LINEAR; one step is CANARY;
 * any other steps cannot be said to ECS and run as a CANARY of the first step's share that
 * bakes as long as all the steps together (no more traffic at risk, no less time watched).
 */
function canary(
  scope: AwsScope,
  s: StrategySpec,
  common: Pick<Deployment['args'], 'deploymentCircuitBreaker'>,
  rollback: boolean,
  timeout: number,
): Deployment {
  const c = s.canary ?? {};
  const written = c.steps ?? [{ percentage: c.percentage ?? 10, bakeTime: c.bakeTime }];
  const steps = written
    .map((step) => ({ percentage: step.percentage, bake: minutes(step.bakeTime ?? c.bakeTime, '30s') }))
    .filter((step) => step.percentage < 100);
  const total = steps.reduce((t, step) => t + step.bake, 0);
  const done = (deploymentConfiguration: Deployment['args']['deploymentConfiguration'], bakes: number): Deployment => ({
    shiftsTraffic: true,
    rollback,
    timeoutMinutes: timeout + bakes,
    maxErrorRate: c.maxErrorRate ?? 5,
    args: { ...common, deploymentConfiguration },
  });
  // Nothing below 100%: all the traffic moves at once, which is blue-green.
  if (steps.length === 0) return done({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: '0' }, 0);
  const first = steps[0]!;
  const linear =
    steps.length > 1 &&
    first.percentage >= 3 &&
    steps.every((step, i) => step.percentage === first.percentage * (i + 1) && step.bake === first.bake) &&
    first.percentage * (steps.length + 1) >= 100;
  if (linear)
    return done(
      {
        strategy: 'LINEAR',
        bakeTimeInMinutes: '0',
        linearConfiguration: { stepPercent: first.percentage, stepBakeTimeInMinutes: String(first.bake) },
      },
      first.bake * Math.ceil(100 / first.percentage),
    );
  if (steps.length > 1)
    scope.pulumi.log.warn(
      `${scope.id}: ECS shifts traffic in one canary step or in equal steps; steps ${steps.map((x) => `${x.percentage}%`).join(', ')} run as a ${first.percentage}% canary baking ${total} minutes, then all`,
    );
  return done(
    {
      strategy: 'CANARY',
      bakeTimeInMinutes: '0',
      canaryConfiguration: { canaryPercent: first.percentage, canaryBakeTimeInMinutes: String(Math.min(1440, total)) },
    },
    total,
  );
}

/** What an ECS service is made with. */
export interface ServiceOptions {
  task: Task;
  /** Where its tasks run (capacityProviders: decided before anything is made, as it may refuse). */
  capacity: Capacity;
  placement: Placement;
  desiredCount: number;
  /** Autoscaling owns the task count once the service exists. */
  autoscaled: boolean;
  deployment: Deployment;
  loadBalancers?: Array<Input<awsModule.types.input.ecs.ServiceLoadBalancer>>;
  healthCheckGracePeriodSeconds?: number;
  serviceRegistries?: awsModule.types.input.ecs.ServiceServiceRegistries;
  /** CloudWatch alarms that fail (and, rollback auto, roll back) a deployment while it runs. */
  alarmNames?: string[];
  dependsOn?: Resource[];
}

/** The ECS service, in the stack's cluster. */
export function ecsService(scope: AwsScope, name: string, o: ServiceOptions): awsModule.ecs.Service {
  const timeout = `${o.deployment.timeoutMinutes}m`;
  return new scope.aws.ecs.Service(
    'service',
    {
      name,
      cluster: scope.platform<string>('clusterArn', 'it runs on the stack’s ECS cluster'),
      taskDefinition: o.task.taskDefinition.arn,
      desiredCount: o.desiredCount,
      capacityProviderStrategies: o.capacity,
      networkConfiguration: {
        subnets: o.placement.subnets,
        securityGroups: o.placement.securityGroups,
        assignPublicIp: o.placement.assignPublicIp,
      },
      deploymentController: { type: 'ECS' },
      ...o.deployment.args,
      ...(o.alarmNames?.length ? { alarms: { alarmNames: o.alarmNames, enable: true, rollback: o.deployment.rollback } } : {}),
      ...(o.loadBalancers?.length ? { loadBalancers: o.loadBalancers } : {}),
      ...(o.loadBalancers?.length && o.healthCheckGracePeriodSeconds !== undefined
        ? { healthCheckGracePeriodSeconds: o.healthCheckGracePeriodSeconds }
        : {}),
      ...(o.serviceRegistries ? { serviceRegistries: o.serviceRegistries } : {}),
      propagateTags: 'SERVICE',
      enableEcsManagedTags: true,
      // A deployment is done when ECS says the service is steady, and failed when its circuit
      // breaker or an alarm stops it; interrupted with rollback auto, ECS goes back itself.
      waitForSteadyState: true,
      sigintRollback: o.deployment.rollback,
    },
    scope.opts({
      ...(o.autoscaled ? { ignoreChanges: ['desiredCount'] } : {}),
      customTimeouts: { create: timeout, update: timeout },
      ...(o.dependsOn?.length ? { dependsOn: o.dependsOn } : {}),
    }),
  );
}

/** The task count a service starts with: `replicas`, within autoscaling's bounds. */
export function desiredCount(replicas: number, scaling: AutoscalingSpec | undefined): number {
  if (!scaling || scaling.enabled === false) return replicas;
  return Math.min(scaling.max, Math.max(scaling.min, replicas));
}

type TrackingConfig = awsModule.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfiguration;

/** A target-tracking policy a kind adds (requests per task, a queue's backlog per task). */
export interface ScalingPolicy {
  name: string;
  config: Omit<TrackingConfig, 'scaleInCooldown' | 'scaleOutCooldown'>;
}

/**
 * Autoscaling of the service's task count between min and max: a target-tracking policy for
 * each target the spec sets (CPU and memory here, the kind's own in `extra`); average CPU at
 * 70% when it sets none, so that min and max mean something.
 */
export function autoscale(
  scope: AwsScope,
  spec: AutoscalingSpec | undefined,
  serviceName: string,
  service: awsModule.ecs.Service,
  extra: ScalingPolicy[] = [],
): awsModule.appautoscaling.Target | undefined {
  if (!spec || spec.enabled === false) return undefined;
  const { aws } = scope;
  const predefined = (name: string, type: string, target: number): ScalingPolicy => ({
    name,
    config: { targetValue: target, predefinedMetricSpecification: { predefinedMetricType: type } },
  });
  const policies = [
    ...(spec.targetCpu !== undefined ? [predefined('cpu', 'ECSServiceAverageCPUUtilization', spec.targetCpu)] : []),
    ...(spec.targetMemory !== undefined ? [predefined('memory', 'ECSServiceAverageMemoryUtilization', spec.targetMemory)] : []),
    ...extra,
  ];
  if (policies.length === 0) policies.push(predefined('cpu', 'ECSServiceAverageCPUUtilization', 70));
  const cooldowns = {
    ...(spec.scaleInCooldown !== undefined ? { scaleInCooldown: Math.round(durationMs(spec.scaleInCooldown, '0s') / 1000) } : {}),
    ...(spec.scaleOutCooldown !== undefined ? { scaleOutCooldown: Math.round(durationMs(spec.scaleOutCooldown, '0s') / 1000) } : {}),
  };
  const target = new aws.appautoscaling.Target(
    'scaling',
    {
      minCapacity: spec.min,
      maxCapacity: spec.max,
      resourceId: `service/${scope.platform<string>('clusterName', 'it runs on the stack’s ECS cluster')}/${serviceName}`,
      scalableDimension: 'ecs:service:DesiredCount',
      serviceNamespace: 'ecs',
    },
    scope.opts({ dependsOn: [service] }),
  );
  for (const p of policies)
    new aws.appautoscaling.Policy(
      `scaling-${p.name}`,
      {
        name: `${scope.baseName}-${p.name}`,
        policyType: 'TargetTrackingScaling',
        resourceId: target.resourceId,
        scalableDimension: target.scalableDimension,
        serviceNamespace: target.serviceNamespace,
        targetTrackingScalingPolicyConfiguration: { ...p.config, ...cooldowns },
      },
      scope.opts({ parent: target }),
    );
  return target;
}

/** The service's CPU and memory (AWS/ECS publishes them for every service, in percent). */
export function serviceMetrics(scope: AwsScope, serviceName: string): MetricCatalog {
  const dimensions = { ClusterName: scope.platform<string>('clusterName', 'it runs on the stack’s ECS cluster'), ServiceName: serviceName };
  const metric = (metricName: string): MetricRef => ({ namespace: 'AWS/ECS', metricName, dimensions, statistic: 'Average' });
  return { cpu: metric('CPUUtilization'), memory: metric('MemoryUtilization') };
}

/** A metric of an expression alarm. */
export type QueryMetric = ExpressionRef['metrics'][number];

/** An alert's metric as metric math over the component's metrics (`expression` names their ids and the steps'). */
export type ExpressionMetric = ExpressionRef;

/** An alarm on metric math, made as addAlarms makes every alarm (name, description, comparison, actions). */
export function expressionAlarm(scope: AwsScope, alert: ComponentAlarm, m: ExpressionMetric): awsModule.cloudwatch.MetricAlarm {
  return addAlarms(scope, { [alert.metric]: m }, { alerts: [alert] })[0]!;
}

/**
 * The alarms of the alerts that apply to the component, from `catalog` and from `own` (metric
 * math the kind writes, which wins). Returns the names of the alarms that roll a deployment back
 * (alerts with `rollback: true` the component can measure).
 */
export function componentAlarms(
  scope: AwsScope,
  catalog: MetricCatalog,
  own: Partial<Record<string, ExpressionMetric>> = {},
): { alarms: awsModule.cloudwatch.MetricAlarm[]; rollbackAlarmNames: string[] } {
  const all = { ...catalog, ...own };
  const alarms = addAlarms(scope, all);
  const rollbackAlarmNames = scope.infra.observability.alarms.filter((a) => a.rollback && measures(all, a)).map((a) => alarmName(scope, a));
  return { alarms, rollbackAlarmNames };
}
