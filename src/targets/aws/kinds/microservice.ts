/**
 * MicroService on AWS: an ECS service on Fargate (task definition, roles and placement in
 * ecs.ts; deployment, autoscaling and alarms in ecs-service.ts). Each load balancer that names
 * it in its `targets` (an attachment) gets a target group of the tasks' IPs and a rule on the
 * listener the route chooses (ecs-routing.ts). Blue-green and canary use ECS's native
 * strategies: a second target group, the production (and test) listener rule forwarding to
 * both, and a role ECS assumes to move the traffic between them. With no load balancer, the
 * service registers its tasks in a Cloud Map namespace of its own, which gives it an address
 * inside the VPC.
 */
import type * as awsModule from '@pulumi/aws';
import { DeployerError } from '../../../errors.js';
import type { AwsScope, Outputs } from '../scope.js';
import { capacityProviders, placement, taskDefinition, type ContainerSpec } from './ecs.js';
import {
  arnSuffix,
  canaryAlarm,
  listenerRules,
  listenerTargetGroup,
  loadBalancingRole,
  routeOf,
  targetGroup,
  trafficMetrics,
  type Groups,
  type HttpHealthCheck,
} from './ecs-routing.js';
import { alarmName } from '../alarms.js';
import {
  autoscale,
  componentAlarms,
  deploymentOf,
  desiredCount,
  ecsService,
  serviceMetrics,
  type AutoscalingSpec,
  type StrategySpec,
} from './ecs-service.js';

interface MicroServiceSpec extends ContainerSpec {
  port: number;
  replicas?: number;
  healthCheck?: HttpHealthCheck;
  autoscaling?: AutoscalingSpec;
  strategy?: StrategySpec;
  rollback?: string;
}

export function translateMicroService(scope: AwsScope): Outputs {
  const spec = scope.spec as unknown as MicroServiceSpec;
  const replicas = spec.replicas ?? 1;
  // What may be refused is decided before anything is made.
  const capacity = capacityProviders(scope, spec.launchType);
  const routes = scope.infra.attachments.map((a, i) => routeOf(scope, spec.port, a, i));
  const deployment = deploymentOf(scope, spec.strategy, spec.rollback, replicas, routes.length > 0);
  const testPort = deployment.shiftsTraffic ? spec.strategy?.blueGreen?.testListenerPort : undefined;
  if (deployment.shiftsTraffic && routes.some((r) => r.kind !== 'ALB'))
    throw new DeployerError(
      'APPLY_FAILED',
      `${scope.id}: ECS shifts blue-green and canary traffic on listener rules, and an NLB has none`,
      {
        details: ['its NLB listener is the NLB’s own: deploy this service rolling'],
      },
    );
  if (deployment.shiftsTraffic && routes.some((r) => r.conditionSets.length > 1))
    throw new DeployerError('APPLY_FAILED', `${scope.id}: ECS shifts the traffic of one listener rule per load balancer`, {
      details: ['a route of a blue-green or canary service takes at most 3 paths and 3 hosts (5 in all)'],
    });
  const task = taskDefinition(scope, spec, { ports: [spec.port, ...routes.map((r) => r.port)] });
  const place = placement(scope, spec, `name the security groups that let its callers reach port ${spec.port}`);
  const serviceName = scope.physicalName({ max: 255 });
  const groups = routes.map((r): Groups => {
    if (r.kind !== 'ALB') return { arn: listenerTargetGroup(scope, r) };
    const primary = targetGroup(scope, spec.healthCheck, r, false);
    return { arn: primary.arn, primary, ...(deployment.shiftsTraffic ? { alternate: targetGroup(scope, spec.healthCheck, r, true) } : {}) };
  });
  const rules = routes.map((r, i) => listenerRules(scope, r, groups[i]!, testPort));
  const lbRole = deployment.shiftsTraffic && routes.length > 0 ? loadBalancingRole(scope, groups, rules) : undefined;
  const { alarms, rollbackAlarmNames } = componentAlarms(scope, serviceMetrics(scope, serviceName), trafficMetrics(routes, groups));
  if (deployment.maxErrorRate !== undefined) {
    alarms.push(canaryAlarm(scope, routes, groups, deployment.maxErrorRate));
    rollbackAlarmNames.push(alarmName(scope, { name: 'canary-errors' }));
  }
  const discovery = routes.length === 0 ? serviceDiscovery(scope) : undefined;
  const gracePeriod = spec.healthCheck?.gracePeriod ?? routes.map((r) => r.spec.healthCheck?.gracePeriod).find((g) => g !== undefined);
  const service = ecsService(scope, serviceName, {
    task,
    capacity,
    placement: place,
    desiredCount: desiredCount(replicas, spec.autoscaling),
    autoscaled: spec.autoscaling !== undefined && spec.autoscaling.enabled !== false,
    deployment,
    loadBalancers: routes.map((r, i) => ({
      targetGroupArn: groups[i]!.arn,
      containerName: task.containerName,
      containerPort: r.port,
      ...(lbRole
        ? {
            advancedConfiguration: {
              alternateTargetGroupArn: groups[i]!.alternate!.arn,
              productionListenerRule: rules[i]!.production[0]!.arn,
              roleArn: lbRole.role.arn,
              ...(rules[i]!.test ? { testListenerRule: rules[i]!.test!.arn } : {}),
            },
          }
        : {}),
    })),
    ...(gracePeriod !== undefined ? { healthCheckGracePeriodSeconds: Math.round(gracePeriod) } : {}),
    ...(discovery ? { serviceRegistries: { registryArn: discovery.service.arn } } : {}),
    alarmNames: rollbackAlarmNames,
    // A target group must be behind a listener before ECS registers tasks in it, the alarms must
    // exist to be watched, and ECS must be able to move the traffic once a deployment starts.
    dependsOn: [...rules.flatMap((r) => [...r.production, ...(r.test ? [r.test] : [])]), ...alarms, ...(lbRole ? [lbRole.policy] : [])],
  });
  const alb = routes.findIndex((r) => r.kind === 'ALB');
  autoscale(scope, spec.autoscaling, serviceName, service, [
    ...(spec.autoscaling?.targetRequestsPerTask !== undefined && alb >= 0
      ? [
          {
            name: 'requests',
            config: {
              targetValue: spec.autoscaling.targetRequestsPerTask,
              predefinedMetricSpecification: {
                predefinedMetricType: 'ALBRequestCountPerTarget',
                resourceLabel: arnSuffix(groups[alb]!.arn).apply((tg) => `${routes[alb]!.loadBalancer}/${tg}`),
              },
            },
          },
        ]
      : []),
  ]);
  return {
    url: routes[0] ? routes[0].url : `http://${discovery!.hostname}:${spec.port}`,
    port: spec.port,
    arn: service.arn,
    name: service.name,
    targetGroupArn: groups[0]?.arn ?? '',
  };
}

/**
 * With no load balancer, the only address of the tasks inside the VPC is a DNS name that lists
 * them: a Cloud Map namespace of the component's own (a private zone of the VPC) and its
 * service, in which ECS registers each task's IP as it starts and removes it as it stops.
 */
function serviceDiscovery(scope: AwsScope): { service: awsModule.servicediscovery.Service; hostname: string } {
  const { aws } = scope;
  const zone = `${scope.name}.${scope.service}.${scope.infra.environment}.${scope.infra.stack}.internal`;
  const namespace = new aws.servicediscovery.PrivateDnsNamespace(
    'discovery',
    { name: zone, vpc: scope.vpcId(), description: `where ${scope.id}'s tasks are found (deployer)` },
    scope.opts(),
  );
  const service = new aws.servicediscovery.Service(
    'discovery',
    {
      name: 'tasks',
      dnsConfig: { namespaceId: namespace.id, routingPolicy: 'MULTIVALUE', dnsRecords: [{ type: 'A', ttl: 10 }] },
    },
    scope.opts({ parent: namespace }),
  );
  return { service, hostname: `tasks.${zone}` };
}
