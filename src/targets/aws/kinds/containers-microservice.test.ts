/**
 * The aws target's MicroServices (kinds/microservice.ts, ecs.ts, ecs-service.ts) translated under
 * Pulumi's runtime mocks from the stack test/fixtures/aws-containers, in dev and in production:
 * api/web behind the load balancer (its target group and rule, autoscaling, container, roles and
 * alarms), api/admin deployed blue-green, api/internal registered in Cloud Map. Their resources
 * are kept as golden files (test/fixtures/aws-golden/containers/, written by
 * containers-worker-cronjob.test.ts); the assertions say what a reviewer must find there. edge/lb
 * (an ALB) is another kind's translation: its outputs are given.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  LB_DIMENSION,
  LISTENER,
  TASK,
  XRAY,
  containers,
  ecsTrust,
  envOf,
  execPolicy,
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
import type { TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import type { MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-containers stack in %s', (env) => {
  const production = env === 'production';
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id)!;
  beforeAll(async () => {
    stack = await translateContainers(env);
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
});
