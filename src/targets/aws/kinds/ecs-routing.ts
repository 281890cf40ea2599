/**
 * What a MicroService adds on the load balancers that route to it (microservice.ts): for each
 * ALB attachment, a target group of its tasks' IPs and the rules on the listener the route
 * chooses (and, for ECS's blue-green and canary, the alternate group, the test listener's rule
 * and the role ECS assumes to shift the traffic), and the load balancer's metrics of it for
 * alarms; made here rather than by the ALB so that adding a service never changes the ALB's own
 * stack. An NLB listener has no rules and forwards to one target group, which must exist before
 * it: the NLB makes it (nlb.ts), and the service registers its tasks in the group its listener
 * forwards to.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import { createHash } from 'node:crypto';
import { DeployerError } from '../../../errors.js';
import type { LoadBalancerAttachment } from '../../../model/stack-infra.js';
import { durationMs } from '../../../util/duration.js';
import { policyDocument, trustPolicy } from '../iam.js';
import type { AwsScope } from '../scope.js';
import { expressionAlarm, type ExpressionMetric, type QueryMetric } from './ecs-service.js';

export interface HttpHealthCheck {
  path?: string;
  interval?: number;
  timeout?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
  gracePeriod?: number;
}

/** An ALB target entry naming this service (its routing settings). */
export interface RouteSpec {
  port?: number;
  listenerPort?: number;
  paths?: string[];
  hosts?: string[];
  priority?: number;
  weight?: number;
  healthCheck?: HttpHealthCheck;
  deregistrationDelay?: number;
  stickiness?: string | number;
}

/** An attachment, decided: which listener, which port, which rules. */
export interface Route {
  index: number;
  kind: 'ALB' | 'NLB';
  spec: RouteSpec;
  port: number;
  listenerPort: number;
  protocol: string;
  listenerArns: Record<string, string>;
  /** The load balancer's CloudWatch dimension (app/<name>/<id>), from its listener's ARN. */
  loadBalancer: string;
  /** The conditions of each rule (ALB takes 3 values a condition, 5 a rule: long lists are split). */
  conditionSets: Array<awsModule.types.input.lb.ListenerRuleCondition[]>;
  url: string;
}

/** The target groups of one route. */
export interface Groups {
  /** The ARN of the group the service registers its tasks in. */
  arn: Output<string>;
  /** The group made here (ALB), and blue-green's alternate. */
  primary?: awsModule.lb.TargetGroup;
  alternate?: awsModule.lb.TargetGroup;
}

/** How an attachment routes to the service: its listener (the route's, else an ALB's HTTPS one, else the first), port and rules. */
export function routeOf(scope: AwsScope, servicePort: number, a: LoadBalancerAttachment, index: number): Route {
  const r = a.route as RouteSpec;
  const https = a.kind === 'ALB' ? a.listeners.find((l) => l.protocol === 'HTTPS') : undefined;
  const listener =
    a.listeners.find((l) => l.port === r.listenerPort) ?? (r.listenerPort === undefined ? (https ?? a.listeners[0]) : undefined);
  const listenerArns = a.listenerArns as Record<string, string>;
  const arn = listener ? listenerArns[String(listener.port)] : undefined;
  if (!listener || !arn)
    throw new DeployerError('APPLY_FAILED', `${scope.id}: ${a.loadBalancer} has no listener on port ${r.listenerPort ?? '(none)'}`);
  const scheme = listener.protocol === 'HTTPS' || listener.protocol === 'TLS' ? 'https' : 'http';
  const written = String(a.url);
  const lbHost = /^[a-z]+:\/\//.test(written) ? new URL(written).hostname : written;
  const host = r.hosts?.find((h) => !/[*?]/.test(h)) ?? lbHost;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return {
    index,
    kind: a.kind,
    spec: r,
    port: r.port ?? servicePort,
    listenerPort: listener.port,
    protocol: listener.protocol,
    listenerArns,
    loadBalancer: arn.split(':listener/')[1]!.split('/').slice(0, 3).join('/'),
    conditionSets: a.kind === 'ALB' ? conditionSets(r) : [],
    url: `${scheme}://${host}${listener.port === defaultPort ? '' : `:${listener.port}`}`,
  };
}

const chunk = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** The rules' conditions: hosts and paths, at most 3 values a condition and 5 a rule; a route with neither is the default (every path). */
function conditionSets(r: RouteSpec): Array<awsModule.types.input.lb.ListenerRuleCondition[]> {
  const hostSets: Array<string[] | undefined> = r.hosts?.length ? chunk(r.hosts, 3) : [undefined];
  return hostSets.flatMap((hosts) => {
    const room = hosts ? Math.min(3, 5 - hosts.length) : 3;
    const pathSets: Array<string[] | undefined> = r.paths?.length ? chunk(r.paths, room) : hosts ? [undefined] : [['/*']];
    return pathSets.map((paths) => [
      ...(hosts ? [{ hostHeader: { values: hosts } }] : []),
      ...(paths ? [{ pathPattern: { values: paths } }] : []),
    ]);
  });
}

/**
 * Rule priorities: the route's, else derived so that they stay the same from one deployment to
 * the next and a more specific route comes first: a band by specificity (hosts, then the
 * longest literal path prefix), a place in it from a hash of the component and listener.
 * The default route (every path) comes last of all.
 */
function priorities(scope: AwsScope, route: Route, count: number): number[] {
  const r = route.spec;
  if (r.priority !== undefined) return Array.from({ length: count }, (_, j) => r.priority! + j);
  if (!r.paths?.length && !r.hosts?.length) return [50000];
  const literal = Math.max(0, ...(r.paths ?? []).map((p) => p.split(/[*?]/)[0]!.length));
  const band = 39 - Math.min(39, Math.floor(literal / 2) + (r.hosts?.length ? 8 : 0));
  return Array.from({ length: count }, (_, j) => {
    const h = createHash('sha256').update(`${scope.id} ${route.listenerPort} ${route.index} ${j}`).digest().readUInt32BE(0);
    return 1000 + band * 1000 + (h % 1000);
  });
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(v)));

/** A target group of the tasks' IPs on the route's port, with its health check (the route's, else the spec's). */
export function targetGroup(
  scope: AwsScope,
  fallback: HttpHealthCheck | undefined,
  r: Route,
  alternate: boolean,
): awsModule.lb.TargetGroup {
  const hc = r.spec.healthCheck ?? fallback ?? {};
  const interval = clamp(hc.interval ?? 15, 5, 300);
  const stickiness = r.spec.stickiness !== undefined ? clamp(durationMs(r.spec.stickiness, '0s') / 1000, 1, 604_800) : undefined;
  // The port is in the name: a new port makes a new group beside the old one, which then goes.
  // Both groups of a blue-green pair share one stem, the alternate ending in g.
  const paired = scope.physicalName({ max: 32, suffix: `-${r.port}${r.index > 0 ? `-${r.index}` : ''}g` });
  return new scope.aws.lb.TargetGroup(
    `tg-${r.index}${alternate ? '-alternate' : ''}`,
    {
      name: alternate ? paired : paired.slice(0, -1),
      targetType: 'ip',
      protocol: 'HTTP',
      port: r.port,
      vpcId: scope.vpcId(),
      // AWS's 300 s would hold every deployment five minutes; 30 s drains an HTTP API's requests.
      deregistrationDelay: r.spec.deregistrationDelay ?? 30,
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        path: hc.path ?? '/healthz',
        port: 'traffic-port',
        matcher: '200-299',
        interval,
        timeout: Math.min(interval - 1, clamp(hc.timeout ?? 5, 2, 120)),
        healthyThreshold: clamp(hc.healthyThreshold ?? 3, 2, 10),
        unhealthyThreshold: clamp(hc.unhealthyThreshold ?? 3, 2, 10),
      },
      ...(stickiness ? { stickiness: { type: 'lb_cookie', enabled: true, cookieDuration: stickiness } } : {}),
    },
    scope.opts(),
  );
}

/**
 * The rules on the route's listener that forward to the service; with ECS's traffic shifting,
 * to both groups (100/0), whose weights ECS then owns (Pulumi leaves them alone), and the same
 * rule on the test listener, which ECS points at the new version before the switch.
 */
export function listenerRules(
  scope: AwsScope,
  r: Route,
  g: Groups,
  testPort: number | undefined,
): { production: awsModule.lb.ListenerRule[]; test?: awsModule.lb.ListenerRule } {
  if (r.kind !== 'ALB') return { production: [] };
  const forward = g.alternate
    ? [
        { arn: g.arn, weight: 100 },
        { arn: g.alternate.arn, weight: 0 },
      ]
    : [{ arn: g.arn, ...(r.spec.weight !== undefined ? { weight: r.spec.weight } : {}) }];
  const ecsOwned = g.alternate ? { ignoreChanges: ['actions'] } : {};
  const prio = priorities(scope, r, r.conditionSets.length);
  const rule = (logical: string, listenerArn: string, conditions: awsModule.types.input.lb.ListenerRuleCondition[], priority: number) =>
    new scope.aws.lb.ListenerRule(
      logical,
      {
        listenerArn,
        priority,
        conditions,
        actions: [{ type: 'forward', forward: { targetGroups: forward } }],
        tags: { Name: `${scope.baseName}${logical.replace(/^rule/, '')}` },
      },
      scope.opts(ecsOwned),
    );
  const production = r.conditionSets.map((c, j) =>
    rule(`rule-${r.index}${r.conditionSets.length > 1 ? `-${j}` : ''}`, r.listenerArns[String(r.listenerPort)]!, c, prio[j]!),
  );
  if (testPort === undefined) return { production };
  const testArn = r.listenerArns[String(testPort)];
  if (!testArn)
    throw new DeployerError(
      'APPLY_FAILED',
      `${scope.id}: strategy.blueGreen.testListenerPort ${testPort}, but its load balancer has no listener on it`,
    );
  return { production, test: rule(`rule-${r.index}-test`, testArn, r.conditionSets[0]!, prio[0]!) };
}

/** The role ECS assumes to move traffic between the groups: these rules and these groups only. */
export function loadBalancingRole(
  scope: AwsScope,
  groups: Groups[],
  rules: Array<ReturnType<typeof listenerRules>>,
): { role: awsModule.iam.Role; policy: awsModule.iam.RolePolicy } {
  const { aws, pulumi } = scope;
  const role = new aws.iam.Role(
    'load-balancing-role',
    {
      name: scope.physicalName({ max: 64, suffix: '-ecs-lb' }),
      description: `what ECS does to shift ${scope.id}'s traffic between its target groups (deployer)`,
      assumeRolePolicy: trustPolicy(['ecs.amazonaws.com']),
      ...(scope.infra.iam.permissionsBoundary ? { permissionsBoundary: scope.infra.iam.permissionsBoundary } : {}),
    },
    scope.opts(),
  );
  const ruleArns = rules.flatMap((r) => [...r.production, ...(r.test ? [r.test] : [])].map((x) => x.arn));
  const groupArns = groups.flatMap((g) => [g.arn, ...(g.alternate ? [g.alternate.arn] : [])]);
  const policy = pulumi.all([pulumi.all(ruleArns), pulumi.all(groupArns)]).apply(([ruleList, groupList]) =>
    policyDocument([
      // Elastic Load Balancing's Describe actions take no resource.
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
      { Effect: 'Allow', Action: ['elasticloadbalancing:ModifyRule'], Resource: ruleList },
      { Effect: 'Allow', Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'], Resource: groupList },
    ]),
  );
  return {
    role,
    policy: new aws.iam.RolePolicy('load-balancing-role', { role: role.name, name: 'shift-traffic', policy }, scope.opts({ parent: role })),
  };
}

/** A target group's CloudWatch dimension (targetgroup/<name>/<id>): its ARN's resource part. */
export const arnSuffix = (arn: Output<string>): Output<string> => arn.apply((a) => a.split(':').slice(5).join(':'));

/** Each target group's metric `name` (with `stat`), by id prefix `p` and the group's place. */
function groupMetrics(routes: Route[], groups: Groups[], p: string, metricName: string, stat: string): QueryMetric[] {
  return routes.flatMap((r, i) =>
    (r.kind === 'ALB' ? [groups[i]!.primary!, ...(groups[i]!.alternate ? [groups[i]!.alternate!] : [])] : []).map((tg, j) => ({
      id: `${p}${i}${j}`,
      namespace: 'AWS/ApplicationELB',
      metricName,
      dimensions: { LoadBalancer: r.loadBalancer, TargetGroup: arnSuffix(tg.arn) as Input<string> },
      stat,
    })),
  );
}

const sumOf = (ms: QueryMetric[]): string => ms.map((m) => `FILL(${m.id}, 0)`).join(' + ');

/**
 * The load balancer's metrics of the service, over all its target groups (ECS moves the traffic
 * from one to the other at each blue-green deployment): error rates, latency (seconds, shown in
 * milliseconds as alerts write it), requests, unhealthy targets.
 */
export function trafficMetrics(routes: Route[], groups: Groups[]): Partial<Record<string, ExpressionMetric>> {
  if (!routes.some((r) => r.kind === 'ALB')) return {};
  const requests = groupMetrics(routes, groups, 'r', 'RequestCount', 'Sum');
  const rate = (code: string): ExpressionMetric => {
    const errors = groupMetrics(routes, groups, 'e', `HTTPCode_Target_${code}_Count`, 'Sum');
    return { metrics: [...errors, ...requests], expression: `100 * (${sumOf(errors)}) / (${sumOf(requests)})` };
  };
  const latency = (p: string): ExpressionMetric => {
    const ms = groupMetrics(routes, groups, 'l', 'TargetResponseTime', p);
    return { metrics: ms, expression: `1000 * MAX([${ms.map((m) => m.id).join(', ')}])` };
  };
  const unhealthy = groupMetrics(routes, groups, 'u', 'UnHealthyHostCount', 'Maximum');
  return {
    'http-5xx-rate': rate('5XX'),
    'http-4xx-rate': rate('4XX'),
    'latency-p50': latency('p50'),
    'latency-p90': latency('p90'),
    'latency-p99': latency('p99'),
    'request-count': { metrics: requests, expression: sumOf(requests) },
    'unhealthy-targets': { metrics: unhealthy, expression: sumOf(unhealthy) },
  };
}

/**
 * The alarm that stops a canary whose new version answers with too many 5xx: the largest 5xx
 * share of any one target group (the canary's, whichever of the two it is this time).
 */
export function canaryAlarm(scope: AwsScope, routes: Route[], groups: Groups[], maxErrorRate: number): awsModule.cloudwatch.MetricAlarm {
  const errors = groupMetrics(routes, groups, 'e', 'HTTPCode_Target_5XX_Count', 'Sum');
  const requests = groupMetrics(routes, groups, 'r', 'RequestCount', 'Sum');
  // One share per group (metric math takes only ids in an array).
  const steps = errors.map((e, k) => ({ id: `share${k}`, expression: `100 * FILL(${e.id}, 0) / ${requests[k]!.id}` }));
  return expressionAlarm(
    scope,
    {
      name: 'canary-errors',
      description: `The new version answers more than ${maxErrorRate}% 5xx during a canary: the deployment stops`,
      metric: 'http-5xx-rate',
      threshold: maxErrorRate,
      severity: 'critical',
      rollback: true,
    },
    { metrics: [...errors, ...requests], steps, expression: `MAX([${steps.map((x) => x.id).join(', ')}])` },
  );
}

/**
 * The target group an NLB's listener forwards to (the NLB makes one for each MicroService it
 * names, nlb.ts), read from the listener when the service deploys. A run without AWS (the
 * mocks) cannot know it: it is empty there.
 */
export function listenerTargetGroup(scope: AwsScope, r: Route): Output<string> {
  const arn = r.listenerArns[String(r.listenerPort)]!;
  return scope.aws.lb.getListenerOutput({ arn }, { provider: scope.provider }).apply((l) => {
    const action = (l.defaultActions ?? [])[0];
    return action?.targetGroupArn || action?.forwards?.[0]?.targetGroups?.[0]?.arn || '';
  });
}
