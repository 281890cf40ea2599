/**
 * EventBridge on AWS: an event bus of the component's own (or the account's default bus when
 * `busName: default`), an archive of its events when asked, and its rules (an event pattern, or
 * a schedule: on the default bus, the only one EventBridge schedules on) with their targets:
 * constant input, retry policy, and a dead-letter queue for what could not be delivered. Each
 * target is let in where AWS checks it: a function's permission to be invoked by the rule, a
 * policy on a queue or a topic of the stack letting the rule send to it (and to the
 * dead-letter queue), a role for an ECS task. Alarms per rule: error rate (failed invocations),
 * throttles.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import { durationMs } from '../../../util/duration.js';
import { policyDocument, trustPolicy } from '../iam.js';
import type { AwsScope, Outputs } from '../scope.js';
import { alarmsFor, arnParts, awsSchedule, queuePolicies, type QueueSender } from './compute-messaging.js';

interface Target {
  target: string;
  input?: Record<string, unknown> | string;
  retry?: { maxAttempts?: number; maxEventAge?: number | string };
  deadLetter?: string;
}
interface Rule {
  name: string;
  description?: string;
  eventPattern?: Record<string, unknown>;
  schedule?: string;
  enabled?: boolean;
  targets: Target[];
}
interface EventBridgeSpec {
  busName?: string;
  rules?: Rule[];
  archive?: { retentionDays: number };
}

/** What a rule's targets need beside themselves: queues and topics to let it send to. */
interface Access {
  queues: QueueSender[];
  topics: Array<{ topicArn: string; sourceArn: Input<string> }>;
  /** ECS targets so far (each has a role, numbered). */
  ecsTargets: number;
}

export function translateEventBridge(scope: AwsScope): Outputs {
  const { aws, pulumi } = scope;
  const spec = scope.spec as EventBridgeSpec;
  const rules = spec.rules ?? [];
  const onDefault = spec.busName === 'default';
  checkRules(scope, rules, onDefault);
  const bus = onDefault
    ? undefined
    : new aws.cloudwatch.EventBus('bus', { name: spec.busName ?? scope.physicalName({ max: 256 }) }, scope.opts());
  const busName: Input<string> = bus?.name ?? 'default';
  const busArn: Input<string> =
    bus?.arn ??
    pulumi.interpolate`arn:aws:events:${scope.infra.region}:${aws.getCallerIdentityOutput({}, { provider: scope.provider }).accountId}:event-bus/default`;
  if (spec.archive)
    new aws.cloudwatch.EventArchive(
      'archive',
      {
        name: scope.physicalName({ max: 48 }),
        description: `Events of ${scope.id} (deployer)`,
        eventSourceArn: busArn,
        retentionDays: spec.archive.retentionDays,
      },
      scope.opts(bus ? { parent: bus } : {}),
    );
  const access: Access = { queues: [], topics: [], ecsTargets: 0 };
  for (const r of rules) {
    const rule = makeRule(scope, r, busName, bus);
    r.targets.forEach((t, j) => makeTarget(scope, rule, r, t, j, busName, access));
    const metric = (metricName: string) => ({
      namespace: 'AWS/Events',
      metricName,
      dimensions: { RuleName: rule.name, ...(bus ? { EventBusName: busName } : {}) },
      statistic: 'Sum',
    });
    alarmsFor(
      scope,
      { 'error-rate': { part: metric('FailedInvocations'), whole: metric('Invocations') }, throttles: metric('ThrottledRules') },
      r.name,
    );
  }
  if (rules.length === 0) alarmsFor(scope, {});
  queuePolicies(scope, access.queues, bus);
  topicPolicies(scope, access.topics);
  return { arn: busArn, name: busName };
}

/** Refuses, before anything is made, what EventBridge cannot do or deployer cannot let in. */
function checkRules(scope: AwsScope, rules: Rule[], onDefault: boolean): void {
  rules.forEach((r, i) => {
    if (r.schedule && !onDefault)
      throw new DeployerError(
        'INVALID_INPUT',
        `${scope.id}: rules[${i}] (${r.name}) runs on a schedule, which EventBridge does only on the default bus`,
        {
          details: [
            'set busName: default (a component of its own for the scheduled rules), or run the target on a CronJob or a Lambda schedule event',
          ],
        },
      );
    for (const t of r.targets) {
      const { service } = arnParts(t.target);
      if (!['lambda', 'sqs', 'sns', 'ecs'].includes(service))
        throw new DeployerError(
          'INVALID_INPUT',
          `${scope.id}: rule ${r.name}: deployer sends events to a Lambda, SQS, SNS or CronJob, not to ${t.target}`,
        );
      if (service !== 'ecs') continue;
      // A Worker's ARN is its service's: EventBridge runs tasks, it cannot start a service.
      if (!t.target.includes(':task-definition/'))
        throw new DeployerError(
          'INVALID_INPUT',
          `${scope.id}: rule ${r.name}: ${t.target} is an ECS service, which EventBridge cannot start`,
          {
            details: ['send the events to the queue the worker reads, or target a CronJob (it runs a task)'],
          },
        );
      if (scope.infra.platform['clusterArn'] === undefined || !privateSubnets(scope)?.length)
        throw new DeployerError(
          'INVALID_INPUT',
          `${scope.id}: rule ${r.name}: running a CronJob's task needs the stack's ECS cluster and private subnets, which an EventBridge component is not given`,
          {
            details: ['give the CronJob a schedule of its own, or have the rule send to a Lambda or a queue'],
          },
        );
    }
  });
}

const privateSubnets = (scope: AwsScope): string[] | undefined =>
  (scope.infra.platform['subnetIds'] as Record<string, string[]> | undefined)?.['private'];

function makeRule(
  scope: AwsScope,
  r: Rule,
  busName: Input<string>,
  bus: awsModule.cloudwatch.EventBus | undefined,
): awsModule.cloudwatch.EventRule {
  return new scope.aws.cloudwatch.EventRule(
    `rule-${r.name}`,
    {
      name: scope.physicalName({ max: 64, suffix: `-${r.name.replace(/[^.\-_A-Za-z0-9]/g, '-')}` }),
      description: r.description ?? `${r.name} (deployer)`,
      eventBusName: busName,
      state: (r.enabled ?? true) ? 'ENABLED' : 'DISABLED',
      ...(r.eventPattern ? { eventPattern: JSON.stringify(r.eventPattern) } : {}),
      ...(r.schedule ? { scheduleExpression: awsSchedule(r.schedule, `${scope.id}: rule ${r.name}`) } : {}),
    },
    scope.opts(bus ? { parent: bus } : {}),
  );
}

function makeTarget(
  scope: AwsScope,
  rule: awsModule.cloudwatch.EventRule,
  r: Rule,
  t: Target,
  j: number,
  busName: Input<string>,
  access: Access,
): void {
  const { aws } = scope;
  const { service, name } = arnParts(t.target);
  const logical = `rule-${r.name}-target-${j}`;
  const extra: Partial<awsModule.cloudwatch.EventTargetArgs> = {};
  const dependsOn: awsModule.lambda.Permission[] = [];
  if (service === 'lambda')
    dependsOn.push(
      new aws.lambda.Permission(
        logical,
        { action: 'lambda:InvokeFunction', function: t.target, principal: 'events.amazonaws.com', sourceArn: rule.arn },
        scope.opts({ parent: rule }),
      ),
    );
  else if (service === 'sqs') {
    access.queues.push({ queueArn: t.target, service: 'events.amazonaws.com', sourceArn: rule.arn });
    // A FIFO queue takes messages in a group: the rule's.
    if (name.endsWith('.fifo')) extra.sqsTarget = { messageGroupId: r.name };
  } else if (service === 'sns') access.topics.push({ topicArn: t.target, sourceArn: rule.arn });
  // checkRules let nothing else through.
  else Object.assign(extra, ecsTarget(scope, rule, t.target, logical, access.ecsTargets++));
  if (t.deadLetter) access.queues.push({ queueArn: t.deadLetter, service: 'events.amazonaws.com', sourceArn: rule.arn });
  new aws.cloudwatch.EventTarget(
    logical,
    {
      rule: rule.name,
      eventBusName: busName,
      targetId: `target-${j}`,
      arn: t.target,
      ...extra,
      ...(t.input !== undefined ? { input: typeof t.input === 'string' ? t.input : JSON.stringify(t.input) } : {}),
      ...(t.retry ? { retryPolicy: retryPolicy(t.retry) } : {}),
      ...(t.deadLetter ? { deadLetterConfig: { arn: t.deadLetter } } : {}),
    },
    scope.opts({ parent: rule, dependsOn }),
  );
}

function retryPolicy(retry: NonNullable<Target['retry']>): awsModule.types.input.cloudwatch.EventTargetRetryPolicy {
  return {
    ...(retry.maxAttempts !== undefined ? { maximumRetryAttempts: retry.maxAttempts } : {}),
    ...(retry.maxEventAge !== undefined ? { maximumEventAgeInSeconds: Math.round(durationMs(retry.maxEventAge, '24h') / 1000) } : {}),
  };
}

/**
 * A CronJob's task run on the stack's cluster, in its private subnets (checkRules saw they are
 * given): the target is the cluster, with a role EventBridge runs the task as (that task
 * definition's family only, and passing its roles to ECS tasks).
 */
function ecsTarget(
  scope: AwsScope,
  rule: awsModule.cloudwatch.EventRule,
  arn: string,
  logical: string,
  n: number,
): Partial<awsModule.cloudwatch.EventTargetArgs> {
  const cluster = scope.infra.platform['clusterArn'] as string;
  const subnets = privateSubnets(scope)!;
  const family = arn.replace(/:\d+$/, '');
  const role = new scope.aws.iam.Role(
    `${logical}-role`,
    { name: scope.physicalName({ max: 64, suffix: `-run-task-${n}` }), assumeRolePolicy: trustPolicy(['events.amazonaws.com']) },
    scope.opts({ parent: rule }),
  );
  new scope.aws.iam.RolePolicy(
    `${logical}-role`,
    {
      role: role.name,
      policy: policyDocument([
        { Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [`${family}:*`], Condition: { ArnEquals: { 'ecs:cluster': cluster } } },
        {
          Effect: 'Allow',
          Action: ['iam:PassRole'],
          Resource: ['*'],
          Condition: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        },
      ]),
    },
    scope.opts({ parent: role }),
  );
  return {
    arn: cluster,
    roleArn: role.arn,
    ecsTarget: { taskDefinitionArn: arn, launchType: 'FARGATE', taskCount: 1, networkConfiguration: { subnets, assignPublicIp: false } },
  };
}

/**
 * Topic policies letting the rules publish, one per topic (SNS keeps one), to topics this
 * stack made in this environment only (as queuePolicies, compute-messaging.ts). An encrypted
 * topic must also let EventBridge use its key: the AWS key for SNS does not.
 */
function topicPolicies(scope: AwsScope, topics: Access['topics']): void {
  const prefix = `${scope.infra.stack}-${scope.infra.environment}-`;
  const byTopic = new Map<string, Array<Input<string>>>();
  for (const t of topics) byTopic.set(t.topicArn, [...(byTopic.get(t.topicArn) ?? []), t.sourceArn]);
  [...byTopic].forEach(([topicArn, sources], i) => {
    if (!arnParts(topicArn).name.startsWith(prefix)) {
      scope.pulumi.log.warn(
        `${scope.id}: the topic ${topicArn} was not made by this stack: allow events.amazonaws.com to publish to it where it is managed`,
      );
      return;
    }
    const policy = scope.pulumi.all(sources).apply((arns) =>
      policyDocument([
        {
          Sid: 'AllowEventBridgeRules',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['sns:Publish'],
          Resource: [topicArn],
          Condition: { ArnEquals: { 'aws:SourceArn': arns } },
        },
      ]),
    );
    new scope.aws.sns.TopicPolicy(`topic-policy-${i}`, { arn: topicArn, policy }, scope.opts());
  });
}
