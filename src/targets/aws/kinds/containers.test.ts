/**
 * The aws target's containers (MicroService, Worker, CronJob: kinds/microservice.ts, worker.ts,
 * cronjob.ts, ecs.ts, ecs-service.ts) translated under Pulumi's runtime mocks from the stack
 * test/fixtures/aws-containers, in dev and in production. Each component's resources are kept
 * as a golden file (test/fixtures/aws-golden/containers/); the assertions say what a reviewer
 * must find there. edge/lb (an ALB) is another kind's translation: its outputs are given.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { renderRun, translateStack, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { repoRoot } from '../../../../test/helpers/testdir.js';
import type { StackInfra } from '../../../model/stack-infra.js';
import { MOCK_SECRET_VALUE, SECRET_SHOWN, runWithMocks, type MockedResource, type MockedRun } from '../mocks.js';
import { AwsScope } from '../scope.js';
import { scheduleExpression, translateCronJob } from './cronjob.js';
import { capacityProviders, ecrRepositoryArn, fargateSize } from './ecs.js';
import { deploymentOf } from './ecs-service.js';
import { translateMicroService } from './microservice.js';
import { translateWorker } from './worker.js';

const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'aws-containers');
const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'containers', env, `${id.replace('/', '.')}.yaml`);
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/containers-lb/50dc6c495c0c9188';
const LB_DIMENSION = 'app/containers-lb/50dc6c495c0c9188';
/** What edge/lb (an ALB, translated by another kind) outputs. */
const lbOutputs = (env: string): Record<string, unknown> => ({
  arn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/containers-lb/50dc6c495c0c9188',
  dnsName: `containers-${env}-lb-1234567890.eu-west-1.elb.amazonaws.com`,
  zoneId: 'Z32O12XQLNTSW2',
  url: `https://containers-${env}-lb-1234567890.eu-west-1.elb.amazonaws.com`,
  listenerArn: `${LISTENER}/443aaaa`,
  listenerArns: { '80': `${LISTENER}/80aaaaa`, '443': `${LISTENER}/443aaaa`, '8443': `${LISTENER}/8443aaa` },
});
const ACCOUNT = 'arn:aws:iam:eu-west-1:123456789012';
const secret = (name: string): string => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

/** The resources of a type, by name (the runtime registers them in no fixed order). */
const ofType = (resources: MockedResource[], type: string): MockedResource[] =>
  resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
const one = (run: MockedRun, type: string, name?: string): MockedResource => {
  const found = ofType(run.resources, type).filter((r) => name === undefined || r.name === name);
  expect(
    found.map((r) => r.name),
    type,
  ).toHaveLength(1);
  return found[0]!;
};
/** Each resource as `type name`, sorted. */
const inventory = (run: MockedRun): string[] =>
  run.resources.map((r) => `${r.type.split(':')[1]} ${r.name}`).sort((a, b) => a.localeCompare(b));
const json = (v: unknown): Record<string, unknown> => JSON.parse(String(v)) as Record<string, unknown>;
const statements = (r: MockedResource): unknown[] => json(r.inputs['policy'])['Statement'] as unknown[];
const containers = (run: MockedRun): Array<Record<string, unknown>> =>
  JSON.parse(String(one(run, 'aws:ecs/taskDefinition:TaskDefinition').inputs['containerDefinitions'])) as Array<Record<string, unknown>>;
const envOf = (c: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries((c['environment'] as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
const XRAY = {
  Effect: 'Allow',
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
  Resource: ['*'],
};
const ecsTrust = { Effect: 'Allow', Principal: { Service: ['ecs-tasks.amazonaws.com'] }, Action: ['sts:AssumeRole'] };
const execPolicy = (env: string, id: string, repository: string | undefined, secrets: string[]): unknown[] => [
  ...(repository
    ? [
        { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
        {
          Effect: 'Allow',
          Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
          Resource: [`arn:aws:ecr:eu-west-1:123456789012:repository/${repository}`],
        },
      ]
    : []),
  {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [`arn:aws:cloudwatch:eu-west-1:123456789012:loggroup//ecs/containers-${env}-${id}:log-stream:*`],
  },
  ...(secrets.length ? [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secrets }] : []),
];
/** The common resources of a component running on ECS (task definition, its roles and logs, X-Ray's sampling rule). */
const TASK = [
  'cloudwatch/logGroup logs',
  'ecs/taskDefinition task',
  'iam/role execution-role',
  'iam/role task-role',
  'iam/rolePolicy execution-role',
  'iam/rolePolicy task-role-deployer-grants',
  'xray/samplingRule tracing',
];
const sorted = (xs: string[]): string[] => [...xs].sort((a, b) => a.localeCompare(b));
/** A target group's ARN as the mocks make it (from its name). */
const tgArn = (tg: MockedResource): string => `arn:aws:lb:eu-west-1:123456789012:targetgroup/${String(tg.inputs['name'])}`;

describe.each(['dev', 'production'])('the aws-containers stack in %s', (env) => {
  const production = env === 'production';
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id)!;
  beforeAll(async () => {
    stack = await translateStack(FIXTURE, env, { 'edge/lb': lbOutputs(env) });
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

  it('runs api/web behind the load balancer: a target group and a rule on the HTTPS listener, autoscaling, alarms', () => {
    const web = run('api/web');
    expect(inventory(web)).toEqual(
      sorted([
        ...TASK,
        'appautoscaling/policy scaling-cpu',
        'appautoscaling/policy scaling-requests',
        'appautoscaling/target scaling',
        'cloudwatch/metricAlarm alarm-cpu-high',
        'cloudwatch/metricAlarm alarm-web-5xx',
        'cloudwatch/metricAlarm alarm-web-latency',
        'ecs/service service',
        'iam/rolePolicy task-role-web-task-read-assets',
        'lb/listenerRule rule-0',
        'lb/targetGroup tg-0',
        'providers aws',
        ...(production
          ? [
              'cloudwatch/metricAlarm alarm-canary-errors',
              'iam/role load-balancing-role',
              'iam/rolePolicy load-balancing-role',
              'lb/targetGroup tg-0-alternate',
            ]
          : []),
      ]),
    );
    const tg = one(web, 'aws:lb/targetGroup:TargetGroup', 'tg-0');
    expect(tg.inputs).toMatchObject({
      targetType: 'ip',
      protocol: 'HTTP',
      port: 8080,
      vpcId: 'vpc-id',
      deregistrationDelay: 20,
      stickiness: { type: 'lb_cookie', enabled: true, cookieDuration: 3600 },
      healthCheck: { path: '/healthz', interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3, matcher: '200-299' },
    });
    const rule = one(web, 'aws:lb/listenerRule:ListenerRule', 'rule-0');
    expect(rule.inputs['listenerArn']).toBe(`${LISTENER}/443aaaa`);
    expect(rule.inputs['conditions']).toEqual([{ pathPattern: { values: ['/api/*', '/healthz'] } }]);
    // Derived, so the same at every deployment: after the explicit ones, before the default route.
    expect(rule.inputs['priority']).toBe(36660);
    const forward = (rule.inputs['actions'] as Array<{ forward: { targetGroups: unknown[] } }>)[0]!.forward.targetGroups;
    expect(forward).toHaveLength(production ? 2 : 1);

    const service = one(web, 'aws:ecs/service:Service').inputs;
    expect(service).toMatchObject({
      name: `containers-${env}-api-web`,
      cluster: `arn:aws:ecs:eu-west-1:123456789012:cluster/containers-${env}`,
      desiredCount: production ? 4 : 2,
      networkConfiguration: { subnets: ['private-0-id', 'private-1-id'], securityGroups: ['sg-web-id'], assignPublicIp: false },
      deploymentCircuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriodSeconds: 45,
      waitForSteadyState: true,
      sigintRollback: true,
      propagateTags: 'SERVICE',
      alarms: {
        enable: true,
        rollback: true,
        alarmNames: [`containers-${env}-api-web-web-5xx`, ...(production ? [`containers-${env}-api-web-canary-errors`] : [])],
      },
    });
    expect(service['capacityProviderStrategies']).toEqual(
      production
        ? [{ capacityProvider: 'FARGATE', weight: 1 }]
        : [
            { capacityProvider: 'FARGATE', base: 1, weight: 0 },
            { capacityProvider: 'FARGATE_SPOT', weight: 1 },
          ],
    );
    const balancer = (service['loadBalancers'] as Array<Record<string, unknown>>)[0]!;
    expect(balancer).toMatchObject({ containerName: 'web', containerPort: 8080, targetGroupArn: tgArn(tg) });
    if (production) {
      // Steps 10% then 50%: ECS has no such steps; a 10% canary baking as long as both.
      expect(service['deploymentConfiguration']).toEqual({
        strategy: 'CANARY',
        bakeTimeInMinutes: '0',
        canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: '15' },
      });
      expect(balancer['advancedConfiguration']).toMatchObject({
        alternateTargetGroupArn: expect.stringMatching(/8080g$/),
        productionListenerRule: expect.stringContaining('rule-0'),
        roleArn: `${ACCOUNT}:role/containers-production-api-web-ecs-lb`,
      });
      expect(service).not.toHaveProperty('deploymentMinimumHealthyPercent');
    } else {
      // maxUnavailable 0 and maxSurge 50% of 2 tasks.
      expect(service).toMatchObject({
        deploymentConfiguration: { strategy: 'ROLLING' },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 150,
      });
      expect(balancer).not.toHaveProperty('advancedConfiguration');
    }

    expect(one(web, 'aws:appautoscaling/target:Target').inputs).toMatchObject({
      minCapacity: production ? 4 : 2,
      maxCapacity: production ? 20 : 6,
      resourceId: `service/containers-${env}/containers-${env}-api-web`,
      scalableDimension: 'ecs:service:DesiredCount',
    });
    const policies = ofType(web.resources, 'aws:appautoscaling/policy:Policy').map(
      (p) => p.inputs['targetTrackingScalingPolicyConfiguration'] as Record<string, unknown>,
    );
    expect(policies).toEqual([
      {
        targetValue: 60,
        predefinedMetricSpecification: { predefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        scaleInCooldown: 300,
        scaleOutCooldown: 30,
      },
      {
        targetValue: 1000,
        predefinedMetricSpecification: {
          predefinedMetricType: 'ALBRequestCountPerTarget',
          resourceLabel: `${LB_DIMENSION}/targetgroup/${String(tg.inputs['name'])}`,
        },
        scaleInCooldown: 300,
        scaleOutCooldown: 30,
      },
    ]);
  });

  it('gives api/web’s container its image, command, port, env, secrets as ARNs, logs, and the X-Ray daemon', () => {
    const web = run('api/web');
    const task = one(web, 'aws:ecs/taskDefinition:TaskDefinition').inputs;
    expect(task).toMatchObject({
      family: `containers-${env}-api-web`,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: production ? '1024' : '512',
      memory: production ? '2048' : '1024',
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' },
      executionRoleArn: `${ACCOUNT}:role/containers-${env}-api-web-exec`,
      taskRoleArn: `${ACCOUNT}:role/containers-${env}-api-web-task`,
    });
    const [app, xray] = containers(web);
    expect(app).toMatchObject({
      name: 'web',
      image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:2.3.1',
      essential: true,
      command: ['node', 'dist/server.js'],
      portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
      stopTimeout: 30,
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': `/ecs/containers-${env}-api-web`, 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'web' },
      },
    });
    expect(envOf(app!)).toEqual({
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
      AWS_XRAY_TRACING_NAME: 'api/web',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      MAX_BODY_KB: '512',
      NODE_ENV: 'production',
      ORDERS_QUEUE_URL: `https://containers-${env}-jobs-orders.sqs.eu-west-1.amazonaws.example`,
    });
    expect(app!['secrets']).toEqual([
      { name: 'DATABASE_PASSWORD', valueFrom: `${secret('containers/web-db')}:password::` },
      { name: 'STRIPE_API_KEY', valueFrom: secret('containers/stripe-api-key') },
    ]);
    expect(xray).toMatchObject({ name: 'xray-daemon', essential: false, portMappings: [{ containerPort: 2000, protocol: 'udp' }] });
    expect(one(web, 'aws:xray/samplingRule:SamplingRule').inputs).toMatchObject({ fixedRate: 0.1, serviceName: 'api/web' });
    expect(one(web, 'aws:cloudwatch/logGroup:LogGroup').inputs).toEqual({ name: `/ecs/containers-${env}-api-web`, retentionInDays: 14 });
  });

  it('gives api/web least-privilege roles: its image, logs and secrets to start it; its grants and Security’s policy to run', () => {
    const web = run('api/web');
    const exec = one(web, 'aws:iam/role:Role', 'execution-role').inputs;
    expect(json(exec['assumeRolePolicy'])['Statement']).toEqual([ecsTrust]);
    expect(exec['permissionsBoundary']).toBe('arn:aws:iam::123456789012:policy/deployer-boundary');
    expect(statements(one(web, 'aws:iam/rolePolicy:RolePolicy', 'execution-role'))).toEqual(
      execPolicy(env, 'api-web', 'web', [secret('containers/web-db'), secret('containers/stripe-api-key')]),
    );
    expect(statements(one(web, 'aws:iam/rolePolicy:RolePolicy', 'task-role-deployer-grants'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: [`arn:aws:sqs:eu-west-1:123456789012:queue/containers-${env}-jobs-orders`],
      },
      XRAY,
    ]);
    expect(statements(one(web, 'aws:iam/rolePolicy:RolePolicy', 'task-role-web-task-read-assets'))).toEqual([
      { Sid: 'ReadAssets', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::containers-assets/*'] },
    ]);
    if (production)
      expect(statements(one(web, 'aws:iam/rolePolicy:RolePolicy', 'load-balancing-role'))).toEqual([
        {
          Effect: 'Allow',
          Action: [
            'elasticloadbalancing:DescribeListeners',
            'elasticloadbalancing:DescribeRules',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
          ],
          Resource: ['*'],
        },
        {
          Effect: 'Allow',
          Action: ['elasticloadbalancing:ModifyRule'],
          Resource: ['arn:aws:lb:eu-west-1:123456789012:listenerrule/rule-0'],
        },
        {
          Effect: 'Allow',
          Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
          Resource: [
            `arn:aws:lb:eu-west-1:123456789012:targetgroup/${String(one(web, 'aws:lb/targetGroup:TargetGroup', 'tg-0').inputs['name'])}`,
            `arn:aws:lb:eu-west-1:123456789012:targetgroup/${String(one(web, 'aws:lb/targetGroup:TargetGroup', 'tg-0-alternate').inputs['name'])}`,
          ],
        },
      ]);
  });

  it('measures api/web’s errors and latency over its target groups, and its CPU from ECS', () => {
    const web = run('api/web');
    const alarm = (name: string) => one(web, 'aws:cloudwatch/metricAlarm:MetricAlarm', name).inputs;
    const groups = production ? ['e00', 'e01'] : ['e00'];
    const fivexx = alarm('alarm-web-5xx');
    expect(fivexx).toMatchObject({ name: `containers-${env}-api-web-web-5xx`, threshold: 2, evaluationPeriods: 3 });
    const queries = fivexx['metricQueries'] as Array<Record<string, unknown>>;
    expect(queries.at(-1)).toEqual({
      id: 'value',
      label: 'http-5xx-rate',
      returnData: true,
      expression: production
        ? '100 * (FILL(e00, 0) + FILL(e01, 0)) / (FILL(r00, 0) + FILL(r01, 0))'
        : '100 * (FILL(e00, 0)) / (FILL(r00, 0))',
    });
    expect(
      queries.filter((q) => groups.includes(String(q['id']))).map((q) => (q['metric'] as Record<string, unknown>)['metricName']),
    ).toEqual(groups.map(() => 'HTTPCode_Target_5XX_Count'));
    expect((queries[0]!['metric'] as { dimensions: Record<string, string> }).dimensions['LoadBalancer']).toBe(LB_DIMENSION);
    // Alerts write latency in milliseconds; the load balancer measures seconds.
    const latency = alarm('alarm-web-latency')['metricQueries'] as Array<Record<string, unknown>>;
    expect(latency.at(-1)!['expression']).toBe(production ? '1000 * MAX([l00, l01])' : '1000 * MAX([l00])');
    expect((latency[0]!['metric'] as Record<string, unknown>)['stat']).toBe('p99');
    expect(alarm('alarm-cpu-high')).toMatchObject({
      namespace: 'AWS/ECS',
      metricName: 'CPUUtilization',
      dimensions: { ClusterName: `containers-${env}`, ServiceName: `containers-${env}-api-web` },
      period: 300,
      alarmActions: [`arn:aws:sns:eu-west-1:123456789012:topic/containers-${env}-alerts`],
    });
    if (production) {
      const canary = alarm('alarm-canary-errors');
      expect(canary['threshold']).toBe(1);
      expect((canary['metricQueries'] as Array<Record<string, unknown>>).at(-1)!['expression']).toBe('MAX([share0, share1])');
    }
  });

  it('deploys api/admin blue-green: two groups, the production and test rules forward to both, ECS shifts them', () => {
    const admin = run('api/admin');
    expect(inventory(admin)).toEqual(
      sorted([
        ...TASK,
        'cloudwatch/metricAlarm alarm-cpu-high',
        'ecs/service service',
        'iam/role load-balancing-role',
        'iam/rolePolicy load-balancing-role',
        'lb/listenerRule rule-0',
        'lb/listenerRule rule-0-test',
        'lb/targetGroup tg-0',
        'lb/targetGroup tg-0-alternate',
        'providers aws',
      ]),
    );
    const [primary, alternate] = ofType(admin.resources, 'aws:lb/targetGroup:TargetGroup');
    // One stem for the pair (cut to ALB's 32 characters with a hash in production), the port in it.
    expect(primary!.inputs['name']).toBe(production ? 'containers-producti-bfa81a-3000' : 'containers-dev-api-admin-3000');
    expect(alternate!.inputs['name']).toBe(`${String(primary!.inputs['name'])}g`);
    expect(primary!.inputs['healthCheck']).toMatchObject({ path: '/status', interval: 20 });
    const rules = ofType(admin.resources, 'aws:lb/listenerRule:ListenerRule');
    expect(rules.map((r) => [r.name, r.inputs['listenerArn'], r.inputs['priority'], r.inputs['conditions']])).toEqual([
      ['rule-0', `${LISTENER}/443aaaa`, 10, [{ hostHeader: { values: ['admin.example.com'] } }]],
      ['rule-0-test', `${LISTENER}/8443aaa`, 10, [{ hostHeader: { values: ['admin.example.com'] } }]],
    ]);
    for (const r of rules)
      expect(
        (r.inputs['actions'] as Array<{ forward: { targetGroups: Array<{ weight: number }> } }>)[0]!.forward.targetGroups.map(
          (t) => t.weight,
        ),
      ).toEqual([100, 0]);
    const service = one(admin, 'aws:ecs/service:Service').inputs;
    expect(service).toMatchObject({
      deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: '10' },
      // rollback: manual: the circuit breaker stops a failing deployment, `deployer rollback` goes back.
      deploymentCircuitBreaker: { enable: true, rollback: false },
      sigintRollback: false,
      desiredCount: 1,
      capacityProviderStrategies: [{ capacityProvider: 'FARGATE', weight: 1 }],
    });
    expect((service['loadBalancers'] as Array<Record<string, unknown>>)[0]!['advancedConfiguration']).toEqual({
      alternateTargetGroupArn: expect.stringMatching(/3000g$/),
      productionListenerRule: 'arn:aws:lb:eu-west-1:123456789012:listenerrule/rule-0',
      testListenerRule: 'arn:aws:lb:eu-west-1:123456789012:listenerrule/rule-0-test',
      roleArn: `${ACCOUNT}:role/containers-${env}-api-admin-ecs-lb`,
    });
    expect(service).not.toHaveProperty('alarms');
    expect(json(one(admin, 'aws:iam/role:Role', 'load-balancing-role').inputs['assumeRolePolicy'])['Statement']).toEqual([
      { Effect: 'Allow', Principal: { Service: ['ecs.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
    ]);
    expect(one(admin, 'aws:ecs/taskDefinition:TaskDefinition').inputs['runtimePlatform']).toEqual({
      operatingSystemFamily: 'LINUX',
      cpuArchitecture: 'X86_64',
    });
    // The attached-role-less task role has the X-Ray daemon's rights and nothing else.
    expect(statements(one(admin, 'aws:iam/rolePolicy:RolePolicy', 'task-role-deployer-grants'))).toEqual([XRAY]);
  });

  it('registers api/internal, which no load balancer routes to, in a Cloud Map namespace of its own', () => {
    const internal = run('api/internal');
    expect(inventory(internal)).toEqual(
      sorted([
        ...TASK,
        'cloudwatch/metricAlarm alarm-cpu-high',
        'ecs/service service',
        'providers aws',
        'servicediscovery/privateDnsNamespace discovery',
        'servicediscovery/service discovery',
      ]),
    );
    expect(one(internal, 'aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace').inputs).toMatchObject({
      name: `internal.api.${env}.containers.internal`,
      vpc: 'vpc-id',
    });
    expect(one(internal, 'aws:servicediscovery/service:Service').inputs).toMatchObject({
      name: 'tasks',
      dnsConfig: { routingPolicy: 'MULTIVALUE', dnsRecords: [{ type: 'A', ttl: 10 }] },
    });
    const service = one(internal, 'aws:ecs/service:Service').inputs;
    // big-bang: all stop, then all start; autoscaling off: the count is the spec's.
    expect(service).toMatchObject({
      deploymentMinimumHealthyPercent: 0,
      deploymentMaximumPercent: 100,
      desiredCount: 1,
      serviceRegistries: { registryArn: expect.stringContaining('servicediscovery') },
    });
    expect(service).not.toHaveProperty('loadBalancers');
    // An image outside ECR needs no ECR permission.
    expect(statements(one(internal, 'aws:iam/rolePolicy:RolePolicy', 'execution-role'))).toEqual(
      execPolicy(env, 'api-internal', undefined, []),
    );
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

describe('what the containers’ translation decides by itself', () => {
  const warn = vi.fn();
  const scope = { id: 'svc/app', pulumi: { log: { warn } } } as unknown as AwsScope;

  it('reads a 5- or 6-field cron, a rate and the @ shortcuts as EventBridge Scheduler does', () => {
    const cases: Array<[string, string]> = [
      ['*/15 * * * *', 'cron(*/15 * * * ? *)'],
      ['0 3 1 * *', 'cron(0 3 1 * ? *)'],
      ['0 9 * * 0', 'cron(0 9 ? * 1 *)'],
      ['0 9 * * 7', 'cron(0 9 ? * 1 *)'],
      ['0 9 * * 5-7', 'cron(0 9 ? * 6-7,1 *)'],
      ['0 9 * * 0-6', 'cron(0 9 ? * 1-7 *)'],
      ['0 9 * * 1,3,5', 'cron(0 9 ? * 2,4,6 *)'],
      ['0 9 * * MON-FRI', 'cron(0 9 ? * MON-FRI *)'],
      ['0 9 * * 1#2', 'cron(0 9 ? * 2#2 *)'],
      ['0 9 * * 5L', 'cron(0 9 ? * 6L *)'],
      ['0 9 ? * 2-6 *', 'cron(0 9 ? * 2-6 *)'],
      ['rate(1 minutes)', 'rate(1 minute)'],
      ['rate(5 hour)', 'rate(5 hours)'],
      ['@hourly', 'cron(0 * * * ? *)'],
      ['@weekly', 'cron(0 0 ? * 1 *)'],
      ['@yearly', 'cron(0 0 1 1 ? *)'],
    ];
    for (const [written, expected] of cases) expect(scheduleExpression(scope, written), written).toBe(expected);
    expect(() => scheduleExpression(scope, '0 9 1 * 1')).toThrow(/both the day of the month and of the week/);
  });

  it('maps canary steps onto ECS: one step is CANARY, equal steps LINEAR, other steps a CANARY baking as long as all', () => {
    const config = (canary: Record<string, unknown>) =>
      deploymentOf(scope, { type: 'canary', canary }, 'auto', 4, true).args.deploymentConfiguration;
    expect(config({ percentage: 20, bakeTime: '5m' })).toEqual({
      strategy: 'CANARY',
      bakeTimeInMinutes: '0',
      canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: '5' },
    });
    expect(config({})).toMatchObject({ canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: '1' } });
    expect(config({ steps: [{ percentage: 25 }, { percentage: 50 }, { percentage: 75 }], bakeTime: '2m' })).toEqual({
      strategy: 'LINEAR',
      bakeTimeInMinutes: '0',
      linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: '2' },
    });
    warn.mockClear();
    expect(config({ steps: [{ percentage: 5, bakeTime: '1m' }, { percentage: 30, bakeTime: '4m' }, { percentage: 100 }] })).toMatchObject({
      strategy: 'CANARY',
      canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: '5' },
    });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('steps 5%, 30% run as a 5% canary baking 5 minutes'));
    expect(config({ steps: [{ percentage: 100 }] })).toEqual({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: '0' });
    // With no load balancer there is no traffic to split: blue-green, said.
    const unbalanced = deploymentOf(scope, { type: 'canary' }, 'auto', 1, false);
    expect(unbalanced).toMatchObject({ shiftsTraffic: false, args: { deploymentConfiguration: { strategy: 'BLUE_GREEN' } } });
    expect(
      deploymentOf(scope, { type: 'canary', timeout: '10m', canary: { percentage: 10, bakeTime: '7m' } }, 'auto', 2, true).timeoutMinutes,
    ).toBe(17);
  });

  it('rolls back the fastest safe way: everything at once beside what serves, no steps, no bake', () => {
    const back = { ...scope, context: { rollback: true } } as unknown as AwsScope;
    expect(deploymentOf(back, { type: 'canary', canary: { percentage: 10, bakeTime: '10m' } }, 'auto', 4, true)).toMatchObject({
      shiftsTraffic: true,
      args: { deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: '0' } },
    });
    expect(deploymentOf(back, { type: 'big-bang' }, 'auto', 4, true).args).toMatchObject({
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
    });
    expect(
      deploymentOf(back, { type: 'blue-green', blueGreen: { terminationWait: '30m' } }, 'auto', 2, true).args.deploymentConfiguration,
    ).toEqual({
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: '0',
    });
  });

  it('turns rolling counts and percentages into ECS’s percents, always able to move', () => {
    const percents = (strategy: Record<string, unknown>, replicas: number) => {
      const a = deploymentOf(scope, strategy, 'off', replicas, false).args;
      return [a.deploymentMinimumHealthyPercent, a.deploymentMaximumPercent];
    };
    expect(percents({}, 4)).toEqual([100, 125]);
    expect(percents({ maxUnavailable: 1, maxSurge: 0 }, 3)).toEqual([66, 100]);
    expect(percents({ maxUnavailable: '25%', maxSurge: '50%' }, 4)).toEqual([75, 150]);
    expect(percents({ maxUnavailable: 0, maxSurge: 0 }, 2)).toEqual([100, 150]);
    expect(percents({ maxSurge: 3 }, 1)).toEqual([100, 200]);
    expect(deploymentOf(scope, {}, 'off', 1, false).args.deploymentCircuitBreaker).toEqual({ enable: true, rollback: false });
  });

  it('refuses what Fargate and the stack’s cluster cannot run, and finds an image’s ECR repository', () => {
    expect(fargateSize(scope, {})).toEqual({ cpu: 256, memory: 512 });
    expect(fargateSize(scope, { cpu: 4096, memory: 30720 })).toEqual({ cpu: 4096, memory: 30720 });
    expect(() => fargateSize(scope, { cpu: 300 })).toThrow(/not 300/);
    expect(() => fargateSize(scope, { cpu: 512, memory: 512 })).toThrow(/1024 to 4096 MiB in steps of 1024, not 512/);
    expect(() => capacityProviders(scope, 'ec2')).toThrow(/Fargate capacity only/);
    expect(ecrRepositoryArn('123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.2')).toBe(
      'arn:aws:ecr:eu-west-1:123456789012:repository/team/api',
    );
    expect(ecrRepositoryArn('123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:abc')).toBe(
      'arn:aws:ecr:eu-west-1:123456789012:repository/api',
    );
    expect(ecrRepositoryArn('ghcr.io/example/api:1')).toBeUndefined();
  });
});

/** An NLB naming svc/app on its TLS listener, to its port 8443. */
const NLB = {
  loadBalancer: 'edge/nlb',
  kind: 'NLB' as const,
  listenerArns: { '443': `${LISTENER.replace('/app/', '/net/')}/tls` },
  url: 'nlb.example.com',
  listeners: [{ port: 443, protocol: 'TLS' }],
  route: { port: 8443 },
};

/** A component translated alone under the mocks, with the `_stack` a test writes (what the fixture does not show). */
async function translateAlone(
  kind: 'MicroService' | 'Worker',
  spec: Record<string, unknown>,
  infra: Partial<StackInfra> = {},
): Promise<MockedRun> {
  return runWithMocks(async () => {
    const [aws, pulumi] = await Promise.all([import('@pulumi/aws'), import('@pulumi/pulumi')]);
    const scope = new AwsScope({
      component: { id: 'svc/app', service: 'svc', name: 'app', kind, baseDir: '/nowhere' },
      spec: { image: 'ghcr.io/example/app:1', ...spec },
      infra: {
        stack: 'alone',
        environment: 'dev',
        region: 'eu-west-1',
        platform: {
          vpcId: 'vpc-1',
          subnetIds: { private: ['subnet-a', 'subnet-b'] },
          clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/alone-dev',
          clusterName: 'alone-dev',
        },
        observability: { alarms: [] },
        iam: { roles: [] },
        grants: [],
        attachments: [],
        ...infra,
      },
      aws,
      pulumi,
      context: { stack: 'alone', environment: 'dev', stackDir: '/nonexistent' },
    });
    return kind === 'Worker' ? translateWorker(scope) : translateMicroService(scope);
  });
}

describe('containers in stacks the fixture does not show', () => {
  it('tells an OpenTelemetry collector’s endpoint and sampling to the code, with no daemon beside it', async () => {
    const r = await translateAlone(
      'Worker',
      {},
      {
        observability: {
          alarms: [],
          tracing: { enabled: true, provider: 'otel', sampleRate: 0.25, endpoint: 'http://collector.internal:4317' } as never,
        },
      },
    );
    const defs = JSON.parse(String(one(r, 'aws:ecs/taskDefinition:TaskDefinition').inputs['containerDefinitions'])) as Array<
      Record<string, unknown>
    >;
    expect(defs.map((c) => c['name'])).toEqual(['app']);
    expect(envOf(defs[0]!)).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.internal:4317',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=dev,service.namespace=alone',
      OTEL_SERVICE_NAME: 'svc/app',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(ofType(r.resources, 'aws:xray/samplingRule:SamplingRule')).toEqual([]);
    // No secrets: the execution role reads none.
    expect(statements(one(r, 'aws:iam/rolePolicy:RolePolicy', 'execution-role'))).toHaveLength(1);
  });

  it('gives a MicroService that names no security group one of its own, outbound only, and says nothing can reach it', async () => {
    const r = await translateAlone('MicroService', { port: 8080 });
    expect(one(r, 'aws:ecs/service:Service').inputs['networkConfiguration']).toEqual({
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['tasks-id'],
      assignPublicIp: false,
    });
    expect(ofType(r.resources, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')).toEqual([]);
    expect(r.outputs['url']).toBe('http://tasks.app.svc.dev.alone.internal:8080');
  });

  it('registers a MicroService an NLB names in the target group its listener forwards to (the NLB’s), with no rule', async () => {
    const r = await translateAlone('MicroService', { port: 8080, network: { securityGroups: ['sg-0123'] } }, { attachments: [NLB] });
    expect(ofType(r.resources, 'aws:lb/targetGroup:TargetGroup')).toEqual([]);
    expect(ofType(r.resources, 'aws:lb/listenerRule:ListenerRule')).toEqual([]);
    // The listener's target group is read from AWS when the service deploys: the mocks know none.
    expect(one(r, 'aws:ecs/service:Service').inputs['loadBalancers']).toEqual([
      { containerName: 'app', containerPort: 8443, targetGroupArn: '' },
    ]);
    expect(r.outputs).toMatchObject({ url: 'https://nlb.example.com', targetGroupArn: '' });
    expect(ofType(r.resources, 'aws:servicediscovery/service:Service')).toEqual([]);
  });

  it('refuses, before it makes anything, a queue scaling without Container Insights, a canary behind an NLB, EC2 capacity', () => {
    // Nothing is made: a scope with no AWS module at all does.
    const bare = (kind: string, spec: Record<string, unknown>, infra: Partial<StackInfra> = {}): AwsScope =>
      ({
        id: 'svc/app',
        kind,
        spec: { image: 'ghcr.io/example/app:1', ...spec },
        infra: { platform: { clusterName: 'alone-dev' }, observability: { alarms: [] }, attachments: [], ...infra },
        physicalName: () => 'alone-dev-svc-app',
        platform: (o: string) => ({ clusterName: 'alone-dev' })[o],
        pulumi: { log: { warn: vi.fn() } },
      }) as unknown as AwsScope;
    expect(() =>
      translateWorker(bare('Worker', { autoscaling: { min: 0, max: 2, queue: { source: 'q', targetMessagesPerTask: 10 } } })),
    ).toThrow(/needs ECS Container Insights/);
    // A canary behind an NLB: ECS would shift the NLB's own listener.
    expect(() => translateMicroService(bare('MicroService', { port: 8080, strategy: { type: 'canary' } }, { attachments: [NLB] }))).toThrow(
      /an NLB has none/,
    );
    expect(() => translateWorker(bare('Worker', { launchType: 'ec2' }))).toThrow(/Fargate capacity only/);
    expect(() => translateCronJob(bare('CronJob', { schedule: '0 0 1 * 1', launchType: 'fargate' }))).toThrow(/both the day/);
  });
});
