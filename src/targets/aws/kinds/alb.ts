/**
 * ALB on AWS: an Application Load Balancer (internet-facing in public subnets, or internal in
 * private ones) that drops invalid headers, refuses deletion in production, logs to the bucket
 * named and is guarded by the WAF web ACL named. Its listeners: HTTP (answering with a 301 to
 * HTTPS when asked), HTTPS with the first certificate as default, the others added, and a
 * modern TLS policy. What a listener does by default is a 404, unless a target given as a value
 * with no paths or hosts is its default: the MicroServices it routes to attach their own target
 * group and rule to it (microservice.ts), so that a service's routing deploys with the service.
 * Targets given as values (a target group ARN, an instance, an address) are forwarded to by
 * rules made here, several matching the same paths and hosts sharing the traffic by weight.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import { durationMs } from '../../../util/duration.js';
import type { AwsScope, Outputs } from '../scope.js';
import { addEdgeAlarms, arnRegion, refuse } from './edge.js';
import {
  extraCertificates,
  accessLogs,
  DEFAULT_SSL_POLICY,
  listenerOf,
  listenerOutputs,
  metricDimension,
  placement,
  portSuffix,
  securityGroups,
  targetGroup,
  targetKind,
  targetsOf,
  warnUnapplied,
  type AccessLogsSpec,
  type ListenerSpec,
  type Target,
  type TargetEntry,
} from './load-balancer.js';

interface AlbSpec {
  internal?: boolean;
  listeners?: ListenerSpec[];
  certificates?: string[];
  targets?: Array<string | TargetEntry>;
  idleTimeout?: number;
  http2?: boolean;
  accessLogs?: AccessLogsSpec;
  wafAcl?: string;
}

/** Targets routed alike (same listener, paths and hosts): one rule, or the listener's default, forwarding to them by weight. */
interface Route {
  listener: ListenerSpec;
  first: Target;
  groups: Array<{ arn: Input<string>; made: boolean; weight: number; stickiness?: number }>;
}

export function translateALB(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as AlbSpec;
  const internal = spec.internal ?? false;
  const certificates = spec.certificates ?? [];
  // No listeners written: HTTPS (and HTTP redirecting to it) with a certificate, else HTTP.
  const listeners = spec.listeners?.length
    ? spec.listeners
    : certificates.length
      ? [
          { port: 80, protocol: 'HTTP', redirectToHttps: true },
          { port: 443, protocol: 'HTTPS' },
        ]
      : [{ port: 80, protocol: 'HTTP' }];
  const https = listeners.find((l) => l.protocol === 'HTTPS');
  if (https && certificates.length === 0)
    throw refuse(scope, `its HTTPS listener on ${https.port} has no certificate`, 'add an ACM certificate ARN to spec.certificates');
  const defaultListener = https ?? listeners[0]!;

  const lb = new aws.lb.LoadBalancer(
    'load-balancer',
    {
      name: scope.physicalName({ max: 32 }),
      loadBalancerType: 'application',
      internal,
      subnets: placement(scope, internal),
      securityGroups: securityGroups(scope, listeners, internal),
      ipAddressType: 'ipv4',
      idleTimeout: spec.idleTimeout ?? 60,
      enableHttp2: spec.http2 ?? true,
      dropInvalidHeaderFields: true,
      enableDeletionProtection: scope.isProduction,
      ...(spec.accessLogs ? { accessLogs: accessLogs(spec.accessLogs) } : {}),
    },
    scope.opts(),
  );
  if (spec.wafAcl && arnRegion(spec.wafAcl) !== scope.infra.region)
    throw refuse(scope, `a load balancer takes a regional web ACL of its own region (${scope.infra.region}); ${spec.wafAcl} is not`);
  if (spec.wafAcl) new aws.wafv2.WebAclAssociation('waf', { resourceArn: lb.arn, webAclArn: spec.wafAcl }, scope.opts({ parent: lb }));

  const routes = routesOf(scope, listeners, defaultListener, spec);
  const made = new Map<number, awsModule.lb.Listener>();
  for (const l of listeners) {
    const byDefault = routes.find((r) => r.listener === l && !routed(r.first.entry));
    made.set(l.port, listener(scope, lb, l, certificates, byDefault, https?.port ?? 443));
  }
  for (const r of routes.filter((x) => routed(x.first.entry))) rule(scope, made.get(r.listener.port)!, r);

  const suffix = metricDimension(lb.arn, 'loadbalancer');
  addEdgeAlarms(scope, catalog(suffix), { sums: sums(scope, suffix, routes) });
  const scheme = https ? 'https' : 'http';
  return {
    arn: lb.arn,
    dnsName: lb.dnsName,
    zoneId: lb.zoneId,
    url: lb.dnsName.apply((d) => `${scheme}://${d}${portSuffix(defaultListener.port, scheme)}`),
    ...listenerOutputs(made, defaultListener.port),
  };
}

const routed = (e: TargetEntry): boolean => Boolean(e.paths?.length || e.hosts?.length);

/** The targets given as values, grouped by what routes to them; their target groups made when they are instances or addresses. */
function routesOf(scope: AwsScope, listeners: ListenerSpec[], defaultListener: ListenerSpec, spec: AlbSpec): Route[] {
  const routes = new Map<string, Route>();
  for (const t of targetsOf(spec)) {
    if (t.attached) continue;
    const l = listenerOf(scope, listeners, t.entry, defaultListener);
    const key = JSON.stringify([l.port, [...(t.entry.paths ?? [])].sort(), [...(t.entry.hosts ?? [])].sort()]);
    const route = routes.get(key) ?? { listener: l, first: t, groups: [] };
    routes.set(key, route);
    const made = targetKind(scope, t.entry.component) !== 'target-group';
    route.groups.push({ arn: groupOf(scope, t), made, weight: t.entry.weight ?? 1, stickiness: stickinessOf(t.entry) });
  }
  return [...routes.values()];
}

function stickinessOf(e: TargetEntry): number | undefined {
  return e.stickiness === undefined ? undefined : Math.round(durationMs(e.stickiness, '0s') / 1000);
}

/** The ARN of a target given as a value: its own target group's, or one made here for it. */
function groupOf(scope: AwsScope, t: Target): Input<string> {
  const e = t.entry;
  const kind = targetKind(scope, e.component);
  if (kind === 'target-group') {
    warnUnapplied(scope, e, ['port', 'healthCheck', 'deregistrationDelay']);
    return e.component;
  }
  if (kind === 'alb') throw refuse(scope, `an ALB cannot route to another ALB (${e.component}); an NLB can`);
  const port = e.port ?? 80;
  const hc = (e.healthCheck ?? {}) as {
    path?: string;
    interval?: number;
    timeout?: number;
    healthyThreshold?: number;
    unhealthyThreshold?: number;
  };
  const stickiness = stickinessOf(e);
  return targetGroup(
    scope,
    String(t.index),
    {
      targetType: kind,
      port,
      protocol: 'HTTP',
      healthCheck: {
        enabled: true,
        path: hc.path ?? '/healthz',
        matcher: '200-299',
        ...(hc.interval !== undefined ? { interval: hc.interval } : {}),
        ...(hc.timeout !== undefined ? { timeout: hc.timeout } : {}),
        ...(hc.healthyThreshold !== undefined ? { healthyThreshold: hc.healthyThreshold } : {}),
        ...(hc.unhealthyThreshold !== undefined ? { unhealthyThreshold: hc.unhealthyThreshold } : {}),
      },
      ...(e.deregistrationDelay !== undefined ? { deregistrationDelay: e.deregistrationDelay } : {}),
      ...(stickiness ? { stickiness: { type: 'lb_cookie', enabled: true, cookieDuration: stickiness } } : {}),
    },
    { kind, id: e.component, port },
  ).arn;
}

/**
 * Forward to the route's target groups: one as it is, several by weight. Stickiness that a
 * target group made here keeps itself (by cookie) is, between several groups or for a group only
 * named, the rule's: a client stays with the group it was sent to.
 */
function forward(r: Route): awsModule.types.input.lb.ListenerRuleAction {
  const sticky = Math.max(0, ...r.groups.map((g) => g.stickiness ?? 0));
  const only = r.groups.length === 1 ? r.groups[0]! : undefined;
  if (only && (only.made || sticky === 0)) return { type: 'forward', targetGroupArn: only.arn };
  return {
    type: 'forward',
    forward: {
      targetGroups: r.groups.map((g) => ({ arn: g.arn, weight: g.weight })),
      ...(sticky > 0 ? { stickiness: { enabled: true, duration: sticky } } : {}),
    },
  };
}

function listener(
  scope: AwsScope,
  lb: awsModule.lb.LoadBalancer,
  l: ListenerSpec,
  certificates: string[],
  byDefault: Route | undefined,
  httpsPort: number,
): awsModule.lb.Listener {
  const { aws } = scope;
  const notFound = { type: 'fixed-response', fixedResponse: { contentType: 'text/plain', messageBody: 'Not Found', statusCode: '404' } };
  const redirect = { type: 'redirect', redirect: { protocol: 'HTTPS', port: String(httpsPort), statusCode: 'HTTP_301' } };
  const action = l.protocol === 'HTTP' && l.redirectToHttps ? redirect : byDefault ? forward(byDefault) : notFound;
  const tls = l.protocol === 'HTTPS';
  const made = new aws.lb.Listener(
    `listener-${l.port}`,
    {
      loadBalancerArn: lb.arn,
      port: l.port,
      protocol: l.protocol,
      defaultActions: [action],
      ...(tls ? { certificateArn: certificates[0]!, sslPolicy: l.sslPolicy ?? DEFAULT_SSL_POLICY } : {}),
    },
    scope.opts({ parent: lb }),
  );
  if (tls) extraCertificates(scope, made, l.port, certificates);
  return made;
}

/** A rule forwarding the route's paths and hosts; its priority the one written, else after those of the targets before it. */
function rule(scope: AwsScope, on: awsModule.lb.Listener, r: Route): void {
  const e = r.first.entry;
  new scope.aws.lb.ListenerRule(
    `rule-${r.first.index}`,
    {
      listenerArn: on.arn,
      priority: e.priority ?? 100 * (r.first.index + 1),
      conditions: [
        ...(e.paths?.length ? [{ pathPattern: { values: e.paths } }] : []),
        ...(e.hosts?.length ? [{ hostHeader: { values: e.hosts } }] : []),
      ],
      actions: [forward(r)],
    },
    scope.opts({ parent: on }),
  );
}

function catalog(suffix: Output<string>) {
  const metric = (metricName: string, statistic = 'Sum') => ({
    namespace: 'AWS/ApplicationELB',
    metricName,
    dimensions: { LoadBalancer: suffix },
    statistic,
  });
  return {
    'latency-p50': metric('TargetResponseTime', 'Average'),
    'latency-p90': metric('TargetResponseTime', 'Average'),
    'latency-p99': metric('TargetResponseTime', 'Average'),
    'request-count': metric('RequestCount'),
    connections: metric('ActiveConnectionCount'),
  };
}

/**
 * Error rates count the load balancer's own errors and its targets' over its requests; unhealthy
 * targets are those of the target groups it forwards to itself (a MicroService alarms on its own).
 */
function sums(scope: AwsScope, suffix: Output<string>, routes: Route[]) {
  const metric = (metricName: string, dimensions: Record<string, Input<string>> = { LoadBalancer: suffix }, statistic = 'Sum') => ({
    namespace: 'AWS/ApplicationELB',
    metricName,
    dimensions,
    statistic,
  });
  const groups = routes.flatMap((r) => r.groups.map((g) => g.arn));
  return {
    'http-5xx-rate': { parts: [metric('HTTPCode_ELB_5XX_Count'), metric('HTTPCode_Target_5XX_Count')], whole: metric('RequestCount') },
    'http-4xx-rate': { parts: [metric('HTTPCode_ELB_4XX_Count'), metric('HTTPCode_Target_4XX_Count')], whole: metric('RequestCount') },
    ...(groups.length
      ? {
          'unhealthy-targets': {
            parts: groups.map((arn) =>
              metric(
                'UnHealthyHostCount',
                { LoadBalancer: suffix, TargetGroup: metricDimension(scope.pulumi.output(arn), 'targetgroup') },
                'Maximum',
              ),
            ),
          },
        }
      : {}),
  };
}
