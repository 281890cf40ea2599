/**
 * CronJob on AWS: an EventBridge Scheduler schedule that runs the component's task on the
 * stack's ECS cluster (task definition, roles and placement in ecs.ts). The schedule is the
 * spec's cron read in its time zone (Scheduler's own, so daylight saving is Scheduler's job),
 * at the exact minute (no flexible window), disabled while `suspend` is true; it runs the
 * task as a role allowed exactly to start this task definition on this cluster and to pass it
 * its two roles. `timeout`: ECS has no limit on a task's run, so a small essential container
 * beside the job sleeps that long and then exits, which stops the task (the job gets SIGTERM,
 * then SIGKILL after its stop timeout) and marks the run failed.
 */
import { DeployerError } from '../../../errors.js';
import { durationMs } from '../../../util/duration.js';
import type { MetricCatalog } from '../alarms.js';
import { policyDocument, type IamStatement } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { capacityProviders, placement, taskDefinition, type ContainerDefinition, type ContainerSpec } from './ecs.js';
import { componentAlarms } from './ecs-service.js';

interface CronJobSpec extends ContainerSpec {
  schedule: string;
  timezone?: string;
  timeout?: string | number;
  retries?: number;
  concurrency?: 'allow' | 'forbid' | 'replace';
  suspend?: boolean;
}

/** A small image with `sleep` and `sh` (Docker's official busybox, mirrored on ECR Public: no credentials to pull). */
const DEADLINE_IMAGE = 'public.ecr.aws/docker/library/busybox:1.36';

export function translateCronJob(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as unknown as CronJobSpec;
  // What may be refused is decided before anything is made.
  const expression = scheduleExpression(scope, spec.schedule);
  const capacity = capacityProviders(scope, spec.launchType);
  const timeoutSeconds = spec.timeout !== undefined ? Math.round(durationMs(spec.timeout, '0s') / 1000) : undefined;
  warnOfOverlaps(scope, spec, expression, timeoutSeconds);
  const task = taskDefinition(scope, spec, timeoutSeconds ? { sidecars: [deadline(timeoutSeconds, String(spec.timeout))] } : {});
  const clusterArn = scope.platform<string>('clusterArn', 'it runs on the stack’s ECS cluster');
  const { role, policy } = schedulerRole(scope, clusterArn, task);
  const place = placement(scope, spec);
  const schedule = new aws.scheduler.Schedule(
    'schedule',
    {
      name: scope.physicalName({ max: 64 }),
      description: `Runs ${scope.id} (deployer)`,
      scheduleExpression: expression,
      scheduleExpressionTimezone: spec.timezone ?? 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: spec.suspend ? 'DISABLED' : 'ENABLED',
      target: {
        arn: clusterArn,
        roleArn: role.arn,
        ecsParameters: {
          taskDefinitionArn: task.taskDefinition.arn,
          taskCount: 1,
          capacityProviderStrategies: capacity,
          networkConfiguration: { subnets: place.subnets, securityGroups: place.securityGroups, assignPublicIp: place.assignPublicIp },
          propagateTags: 'TASK_DEFINITION',
          enableEcsManagedTags: true,
        },
        // Scheduler retries a run ECS would not start (capacity, throttling); an hour late, a run is dropped rather than started.
        retryPolicy: { maximumRetryAttempts: spec.retries ?? 0, maximumEventAgeInSeconds: 3600 },
      },
    },
    // The first run must find its role able to start the task.
    scope.opts({ dependsOn: [policy] }),
  );
  componentAlarms(scope, taskMetrics(scope, task.taskDefinition.family));
  return { arn: schedule.arn, name: schedule.name, taskDefinitionArn: task.taskDefinition.arn };
}

/**
 * The schedule as Scheduler reads it. A 5-field cron (minute hour day-of-month month
 * day-of-week) gains Scheduler's year field and its `?` in one of the two day fields, and its
 * days of the week are renumbered (cron's 0-7 from Sunday, Scheduler's 1-7 from Sunday). A
 * 6-field cron is Scheduler's own; rate() and @daily and the like are said in its terms.
 */
export function scheduleExpression(scope: AwsScope, written: string): string {
  const shortcuts: Record<string, string> = {
    '@yearly': '0 0 1 1 ? *',
    '@annually': '0 0 1 1 ? *',
    '@monthly': '0 0 1 * ? *',
    '@weekly': '0 0 ? * 1 *',
    '@daily': '0 0 * * ? *',
    '@hourly': '0 * * * ? *',
  };
  if (shortcuts[written]) return `cron(${shortcuts[written]})`;
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(written);
  if (rate) return `rate(${rate[1]} ${rate[2]}${rate[1] === '1' ? '' : 's'})`;
  const fields = written.trim().split(/\s+/);
  if (fields.length === 6) return `cron(${fields.join(' ')})`;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const any = (f: string): boolean => f === '*' || f === '?';
  if (!any(dom) && !any(dow))
    throw new DeployerError('APPLY_FAILED', `${scope.id}: schedule "${written}" restricts both the day of the month and of the week`, {
      details: ['EventBridge Scheduler takes one or the other (cron runs on either): split the job, or use one of the two'],
    });
  return any(dow) ? `cron(${minute} ${hour} ${dom} ${month} ? *)` : `cron(${minute} ${hour} ? ${month} ${weekdays(dow)} *)`;
}

/** cron's days of the week (0 or 7 Sunday ... 6 Saturday; names as they are) in Scheduler's 1-7 from Sunday. */
function weekdays(field: string): string {
  const day = (n: string): number => (Number(n) % 7) + 1;
  return field
    .split(',')
    .map((item) => {
      const [range, step] = item.split('/') as [string, string | undefined];
      const tail = step !== undefined ? `/${step}` : '';
      const m = /^(\d)(?:-(\d))?(L|#\d)?$/.exec(range);
      if (!m) return item; // *, names (MON-FRI) and L are the same in both
      if (m[2] === undefined) return `${day(m[1]!)}${m[3] ?? ''}${tail}`;
      // A range ending on Sunday (7) wraps in Scheduler's numbering: 5-7 is 6-7,1.
      if (m[2] === '7') return m[1] === '0' ? `1-7${tail}` : `${day(m[1]!)}-7${tail},1`;
      return `${day(m[1]!)}-${day(m[2])}${tail}`;
    })
    .join(',');
}

/**
 * `concurrency`: Scheduler starts a run when it is due whether or not the last one still runs,
 * and ECS cannot refuse it; forbid and replace are kept by a timeout shorter than the time
 * between runs, which is said when it is not (a rate() can be checked; a cron only trusted).
 */
function warnOfOverlaps(scope: AwsScope, spec: CronJobSpec, expression: string, timeoutSeconds: number | undefined): void {
  if ((spec.concurrency ?? 'forbid') === 'allow') return;
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  const every = rate ? Number(rate[1]) * { minute: 60, hour: 3600, day: 86400 }[rate[2] as 'minute' | 'hour' | 'day'] : undefined;
  if (timeoutSeconds === undefined || (every !== undefined && timeoutSeconds > every))
    scope.pulumi.log.warn(
      `${scope.id}: concurrency ${spec.concurrency ?? 'forbid'}, but EventBridge Scheduler starts each run when it is due: set a timeout shorter than the time between runs so that they cannot overlap`,
    );
}

/** The essential container that ends a run after `seconds` (exit 124, as timeout(1) does). */
function deadline(seconds: number, written: string): ContainerDefinition {
  return {
    name: 'deadline',
    image: DEADLINE_IMAGE,
    essential: true,
    command: ['sh', '-c', `sleep ${seconds}; echo "deployer: the run exceeded its timeout of ${written}" >&2; exit 124`],
  };
}

/**
 * The role Scheduler runs the task as: exactly this task definition on this cluster, tagging
 * the task it starts (tags propagate from the task definition), and passing the task its two
 * roles (to ECS only).
 */
function schedulerRole(scope: AwsScope, clusterArn: string, task: ReturnType<typeof taskDefinition>) {
  const { aws, pulumi } = scope;
  const [, partition, , region, account] = clusterArn.split(':') as [string, string, string, string, string];
  const clusterName = clusterArn.split('/').pop()!;
  const role = new aws.iam.Role(
    'scheduler-role',
    {
      name: scope.physicalName({ max: 64, suffix: '-scheduler' }),
      description: `what EventBridge Scheduler does to run ${scope.id} (deployer)`,
      // Only schedules of this account may use it (the confused deputy).
      assumeRolePolicy: policyDocument([
        {
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Action: ['sts:AssumeRole'],
          Condition: { StringEquals: { 'aws:SourceAccount': account } },
        },
      ]),
      ...(scope.infra.iam.permissionsBoundary ? { permissionsBoundary: scope.infra.iam.permissionsBoundary } : {}),
    },
    scope.opts(),
  );
  const policy = pulumi
    .all([task.taskDefinition.arn, task.executionRole.arn, task.taskRole.arn])
    .apply(([taskDefinitionArn, executionRoleArn, taskRoleArn]): string => {
      const statements: IamStatement[] = [
        {
          Effect: 'Allow',
          Action: ['ecs:RunTask'],
          Resource: [taskDefinitionArn],
          Condition: { ArnEquals: { 'ecs:cluster': clusterArn } },
        },
        {
          Effect: 'Allow',
          Action: ['ecs:TagResource'],
          Resource: [`arn:${partition}:ecs:${region}:${account}:task/${clusterName}/*`],
          Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
        },
        {
          Effect: 'Allow',
          Action: ['iam:PassRole'],
          Resource: [executionRoleArn, taskRoleArn],
          Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
      ];
      return policyDocument(statements);
    });
  return {
    role,
    policy: new aws.iam.RolePolicy('scheduler-role', { role: role.name, name: 'run-task', policy }, scope.opts({ parent: role })),
  };
}

/**
 * A run's CPU and memory in percent of what its task has: Container Insights' per-family
 * metrics (a run is no service, so AWS/ECS has none), when the stack turns it on.
 */
function taskMetrics(scope: AwsScope, family: ReturnType<typeof taskDefinition>['taskDefinition']['family']): MetricCatalog {
  if (scope.infra.observability.containerInsights !== true) return {};
  const dimensions = {
    ClusterName: scope.platform<string>('clusterName', 'it runs on the stack’s ECS cluster'),
    TaskDefinitionFamily: family,
  };
  const metric = (metricName: string) => ({ namespace: 'ECS/ContainerInsights', metricName, dimensions });
  return {
    cpu: { part: metric('CpuUtilized'), whole: metric('CpuReserved') },
    memory: { part: metric('MemoryUtilized'), whole: metric('MemoryReserved') },
  };
}
