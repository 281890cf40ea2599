/**
 * The aws target's Worker and CronJobs (kinds/worker.ts, cronjob.ts, ecs.ts) translated under
 * Pulumi's runtime mocks from the stack test/fixtures/aws-containers, in dev and in production,
 * and what holds for every component of that stack: each one's resources are kept as a golden
 * file (test/fixtures/aws-golden/containers/), each returns the outputs its kind declares, is
 * tagged through its provider and holds no secret value. The assertions say what a reviewer must
 * find in the golden files. edge/lb (an ALB) is another kind's translation: its outputs are given.
 * The MicroServices' own checks are in containers-microservice.test.ts.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  FIXTURE,
  TASK,
  XRAY,
  containers,
  execPolicy,
  golden,
  inventory,
  json,
  ofType,
  one,
  secret,
  sorted,
  statements,
  tgArn,
  translateContainers,
} from '../../../../test/helpers/aws-containers.js';
import { renderRun, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { MOCK_SECRET_VALUE, SECRET_SHOWN, type MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-containers stack in %s', (env) => {
  const production = env === 'production';
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id)!;
  beforeAll(async () => {
    stack = await translateContainers(env);
  });

  it('keeps each component’s resources as its golden file', async () => {
    for (const [id, r] of stack.runs) {
      if (id === 'edge/lb') continue;
      const c = stack.desired.components.get(id)!;
      await expect(renderRun(`${id} (${c.kind}) on aws, environment ${env}`, r)).toMatchFileSnapshot(golden(env, id));
    }
  });

  it('returns exactly the outputs each kind declares for aws', () => {
    const keys = (id: string): string[] => Object.keys(run(id).outputs).sort();
    for (const id of ['api/web', 'api/admin', 'api/internal'])
      expect(keys(id), id).toEqual(['arn', 'name', 'port', 'targetGroupArn', 'url']);
    expect(keys('jobs/worker')).toEqual(['arn', 'name']);
    for (const id of ['jobs/report', 'jobs/cleanup']) expect(keys(id), id).toEqual(['arn', 'name', 'taskDefinitionArn']);
    expect(run('api/web').outputs).toEqual({
      url: `https://containers-${env}-lb-1234567890.eu-west-1.elb.amazonaws.com`,
      port: 8080,
      arn: `arn:aws:ecs:eu-west-1:123456789012:service/containers-${env}-api-web`,
      name: `containers-${env}-api-web`,
      targetGroupArn: tgArn(one(run('api/web'), 'aws:lb/targetGroup:TargetGroup', 'tg-0')),
    });
    expect(run('api/admin').outputs['url']).toBe('https://admin.example.com');
    expect(run('api/internal').outputs).toMatchObject({
      url: `http://tasks.internal.api.${env}.containers.internal:9000`,
      targetGroupArn: '',
    });
    expect(run('jobs/report').outputs['arn']).toBe(`arn:aws:scheduler:eu-west-1:123456789012:schedule/containers-${env}-jobs-report`);
  });

  it('runs jobs/worker with no load balancer, a command health check, and scaling on the queue’s backlog per task', () => {
    const worker = run('jobs/worker');
    expect(inventory(worker)).toEqual(
      sorted([
        ...TASK,
        'appautoscaling/policy scaling-queue',
        'appautoscaling/target scaling',
        'cloudwatch/metricAlarm alarm-cpu-high',
        'cloudwatch/metricAlarm alarm-worker-backlog',
        'ec2/securityGroup tasks',
        'ecs/service service',
        'providers aws',
        'vpc/securityGroupEgressRule tasks-egress',
      ]),
    );
    const [app] = containers(worker);
    expect(app!['healthCheck']).toEqual({
      command: ['CMD', 'node', 'dist/health.js'],
      interval: 30,
      timeout: 5,
      retries: 3,
      startPeriod: 20,
    });
    expect(app).toMatchObject({ stopTimeout: 120, secrets: [{ name: 'API_TOKEN', valueFrom: secret('containers/worker-token') }] });
    expect(app).not.toHaveProperty('portMappings');
    // No group named: one of its own, outbound only.
    expect(one(worker, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').inputs).toMatchObject({
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });
    expect(ofType(worker.resources, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')).toEqual([]);
    const service = one(worker, 'aws:ecs/service:Service').inputs;
    expect(service).toMatchObject({ desiredCount: production ? 2 : 1, networkConfiguration: { securityGroups: ['tasks-id'] } });
    expect(service).not.toHaveProperty('loadBalancers');
    // Receive and delete on the queue it reads, nothing more (plus X-Ray's daemon).
    expect(statements(one(worker, 'aws:iam/rolePolicy:RolePolicy', 'task-role-deployer-grants'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: [`arn:aws:sqs:eu-west-1:123456789012:queue/containers-${env}-jobs-orders`],
      },
      XRAY,
    ]);
    expect(statements(one(worker, 'aws:iam/rolePolicy:RolePolicy', 'execution-role'))).toEqual(
      execPolicy(env, 'jobs-worker', 'worker', [secret('containers/worker-token')]),
    );
    expect(one(worker, 'aws:appautoscaling/target:Target').inputs).toMatchObject({
      minCapacity: production ? 2 : 0,
      maxCapacity: production ? 20 : 5,
    });
    const tracking = one(worker, 'aws:appautoscaling/policy:Policy').inputs['targetTrackingScalingPolicyConfiguration'] as {
      targetValue: number;
      customizedMetricSpecification: { metrics: Array<Record<string, unknown>> };
    };
    expect(tracking.targetValue).toBe(100);
    const [visible, running, backlog] = tracking.customizedMetricSpecification.metrics;
    expect(visible!['metricStat']).toMatchObject({
      metric: {
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: [{ name: 'QueueName', value: `containers-${env}-jobs-orders` }],
      },
    });
    expect(running!['metricStat']).toMatchObject({ metric: { namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount' } });
    expect(backlog).toMatchObject({
      id: 'backlog',
      returnData: true,
      expression: 'visible / IF(FILL(running, 0) < 1, 1, FILL(running, 0))',
    });
    expect(one(worker, 'aws:cloudwatch/metricAlarm:MetricAlarm', 'alarm-worker-backlog').inputs).toMatchObject({
      namespace: 'AWS/SQS',
      dimensions: { QueueName: `containers-${env}-jobs-orders` },
      threshold: 5000,
    });
  });

  it('schedules jobs/report with EventBridge Scheduler: its cron in its time zone, a role that may run exactly its task, a deadline', () => {
    const report = run('jobs/report');
    expect(inventory(report)).toEqual(
      sorted([
        ...TASK,
        'cloudwatch/metricAlarm alarm-cpu-high',
        'iam/role scheduler-role',
        'iam/rolePolicy scheduler-role',
        'providers aws',
        'scheduler/schedule schedule',
      ]),
    );
    const schedule = one(report, 'aws:scheduler/schedule:Schedule').inputs;
    expect(schedule).toMatchObject({
      name: `containers-${env}-jobs-report`,
      // Weekdays 1-5 from Monday in cron are 2-6 from Sunday in Scheduler.
      scheduleExpression: 'cron(30 2 ? * 2-6 *)',
      scheduleExpressionTimezone: 'Europe/Dublin',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/containers-${env}`,
        roleArn: `${ACCOUNT}:role/containers-${env}-jobs-report-scheduler`,
        retryPolicy: { maximumRetryAttempts: production ? 3 : 2 },
        ecsParameters: {
          taskCount: 1,
          capacityProviderStrategies: [{ capacityProvider: 'FARGATE', weight: 1 }],
          networkConfiguration: { subnets: ['private-0-id', 'private-1-id'], securityGroups: ['sg-jobs-id'], assignPublicIp: false },
        },
      },
    });
    const taskDefinitionArn = (schedule['target'] as { ecsParameters: { taskDefinitionArn: string } }).ecsParameters.taskDefinitionArn;
    expect(report.outputs['taskDefinitionArn']).toBe(taskDefinitionArn);
    expect(json(one(report, 'aws:iam/role:Role', 'scheduler-role').inputs['assumeRolePolicy'])['Statement']).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: ['sts:AssumeRole'],
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
      },
    ]);
    expect(statements(one(report, 'aws:iam/rolePolicy:RolePolicy', 'scheduler-role'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['ecs:RunTask'],
        Resource: [taskDefinitionArn],
        Condition: { ArnEquals: { 'ecs:cluster': `arn:aws:ecs:eu-west-1:123456789012:cluster/containers-${env}` } },
      },
      {
        Effect: 'Allow',
        Action: ['ecs:TagResource'],
        Resource: [`arn:aws:ecs:eu-west-1:123456789012:task/containers-${env}/*`],
        Condition: { StringEquals: { 'ecs:CreateAction': 'RunTask' } },
      },
      {
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: [`${ACCOUNT}:role/containers-${env}-jobs-report-exec`, `${ACCOUNT}:role/containers-${env}-jobs-report-task`],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
    ]);
    const [app, deadline, xray] = containers(report);
    expect(app).toMatchObject({ name: 'report', essential: true, command: ['node', 'dist/jobs/report.js'] });
    expect(deadline).toMatchObject({
      name: 'deadline',
      essential: true,
      command: ['sh', '-c', 'sleep 2700; echo "deployer: the run exceeded its timeout of 45m" >&2; exit 124'],
    });
    expect(xray!['name']).toBe('xray-daemon');
    expect(one(report, 'aws:ecs/taskDefinition:TaskDefinition').inputs).toMatchObject({ cpu: '1024', memory: '2048' });
    // A run is no service: its CPU is Container Insights' share of what its task has.
    const cpu = one(report, 'aws:cloudwatch/metricAlarm:MetricAlarm').inputs['metricQueries'] as Array<{
      metric?: Record<string, unknown>;
    }>;
    expect(cpu.map((q) => q.metric?.['metricName'])).toEqual(['CpuUtilized', 'CpuReserved', undefined]);

    const cleanup = one(run('jobs/cleanup'), 'aws:scheduler/schedule:Schedule').inputs;
    expect(cleanup).toMatchObject({
      scheduleExpression: 'cron(0 0 * * ? *)',
      scheduleExpressionTimezone: 'UTC',
      state: 'DISABLED',
      target: {
        retryPolicy: { maximumRetryAttempts: 0 },
        ecsParameters: {
          capacityProviderStrategies: [
            { capacityProvider: 'FARGATE', base: 1, weight: 0 },
            { capacityProvider: 'FARGATE_SPOT', weight: 1 },
          ],
        },
      },
    });
    expect(containers(run('jobs/cleanup')).map((c) => c['name'])).toEqual(['cleanup', 'xray-daemon']);
  });

  it('tags every resource through the provider and puts no secret value in any input', () => {
    for (const [id, r] of stack.runs) {
      if (id === 'edge/lb') continue;
      const provider = one(r, 'pulumi:providers:aws');
      expect(json(provider.inputs['defaultTags'])['tags'], id).toMatchObject({
        'deployer:component': id,
        'deployer:stack': 'containers',
        'deployer:environment': env,
        // InfraDefaults' tags are the components' (the platform has Networking's and Security's).
        ...(id === 'stack/platform' ? {} : { project: 'containers' }),
      });
      const text = JSON.stringify(r);
      expect(text, id).not.toContain(MOCK_SECRET_VALUE);
      expect(text, id).not.toContain(SECRET_SHOWN);
    }
    expect(readdirSync(FIXTURE)).not.toContain('.deployer');
  });
});
