/**
 * NLB on AWS: a Network Load Balancer (internet-facing in public subnets, with an Elastic IP
 * per zone when asked, or internal in private ones), cross-zone unless told otherwise,
 * refusing deletion in production, logging to the bucket named, behind the security groups
 * named or one of its own. Its listeners: TCP, UDP, TCP_UDP, or TLS terminated here with the
 * first certificate as default, the others added, a modern TLS policy and the ALPN policy asked.
 *
 * An NLB listener has no rules: it forwards everything to one target group. So each listener
 * gets one: the target group given as a value (an ARN), or one made here for an instance, an
 * address or an ALB given as a value, or for a MicroService named by id. A MicroService
 * registers its tasks in the target group its listener forwards to (microservice.ts reads it
 * from the listener: `aws.lb.getListenerOutput({ arn }).defaultActions[0].targetGroupArn`),
 * with the port, health check and draining its target entry here says.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import type { AwsScope, Outputs } from '../scope.js';
import { addEdgeAlarms, refuse } from './edge.js';
import {
  extraCertificates,
  accessLogs,
  DEFAULT_SSL_POLICY,
  listenerOf,
  listenerOutputs,
  metricDimension,
  placement,
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

interface NlbSpec {
  internal?: boolean;
  listeners?: ListenerSpec[];
  certificates?: string[];
  targets?: Array<string | TargetEntry>;
  crossZone?: boolean;
  elasticIps?: boolean;
  accessLogs?: AccessLogsSpec;
}

interface NlbHealthCheck {
  protocol?: 'TCP' | 'HTTP' | 'HTTPS';
  port?: number;
  path?: string;
  interval?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
}

export function translateNLB(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as NlbSpec;
  const internal = spec.internal ?? false;
  const certificates = spec.certificates ?? [];
  // No listeners written: TLS on 443 with a certificate, else TCP on 80.
  const listeners = spec.listeners?.length
    ? spec.listeners
    : [certificates.length ? { port: 443, protocol: 'TLS' } : { port: 80, protocol: 'TCP' }];
  const tls = listeners.find((l) => l.protocol === 'TLS');
  if (tls && certificates.length === 0)
    throw refuse(scope, `its TLS listener on ${tls.port} has no certificate`, 'add an ACM certificate ARN to spec.certificates');
  if (spec.elasticIps && internal)
    throw refuse(scope, 'an internal NLB has private addresses only: elasticIps is for an internet-facing one');

  const subnets = placement(scope, internal);
  const lb = new aws.lb.LoadBalancer(
    'load-balancer',
    {
      name: scope.physicalName({ max: 32 }),
      loadBalancerType: 'network',
      internal,
      ...(spec.elasticIps ? { subnetMappings: elasticIps(scope, subnets) } : { subnets }),
      securityGroups: securityGroups(scope, listeners, internal),
      ipAddressType: 'ipv4',
      enableCrossZoneLoadBalancing: spec.crossZone ?? true,
      enableDeletionProtection: scope.isProduction,
      ...(spec.accessLogs ? { accessLogs: accessLogs(spec.accessLogs) } : {}),
    },
    scope.opts(),
  );

  const forwards = targetGroups(scope, listeners, listeners[0]!, spec);
  const made = new Map<number, awsModule.lb.Listener>();
  for (const l of listeners) made.set(l.port, listener(scope, lb, l, certificates, forwards.get(l.port)!));

  const suffix = metricDimension(lb.arn, 'loadbalancer');
  const metric = (metricName: string, dimensions: Record<string, Input<string>> = { LoadBalancer: suffix }, statistic = 'Sum') => ({
    namespace: 'AWS/NetworkELB',
    metricName,
    dimensions,
    statistic,
  });
  addEdgeAlarms(
    scope,
    { 'request-count': metric('NewFlowCount'), connections: metric('ActiveFlowCount', undefined, 'Maximum') },
    {
      sums: {
        'unhealthy-targets': {
          parts: [...forwards.values()].map((arn) =>
            metric('UnHealthyHostCount', { LoadBalancer: suffix, TargetGroup: metricDimension(arn, 'targetgroup') }, 'Maximum'),
          ),
        },
      },
    },
  );
  return { arn: lb.arn, dnsName: lb.dnsName, zoneId: lb.zoneId, ...listenerOutputs(made, (tls ?? listeners[0]!).port) };
}

/** One Elastic IP per subnet (per zone): the load balancer's addresses stay the same for its lifetime. */
function elasticIps(scope: AwsScope, subnets: string[]): awsModule.types.input.lb.LoadBalancerSubnetMapping[] {
  return subnets.map((subnetId, i) => {
    const name = scope.physicalName({ max: 255, suffix: `-${i}` });
    const eip = new scope.aws.ec2.Eip(`eip-${i}`, { domain: 'vpc', tags: { Name: name } }, scope.opts());
    // An Elastic IP's id is its allocation id.
    return { subnetId, allocationId: eip.id };
  });
}

/** The target group each listener forwards to, by port. */
function targetGroups(scope: AwsScope, listeners: ListenerSpec[], first: ListenerSpec, spec: NlbSpec): Map<number, Output<string>> {
  const byListener = new Map<number, Target>();
  for (const t of targetsOf(spec)) {
    const l = listenerOf(scope, listeners, t.entry, first);
    const other = byListener.get(l.port);
    if (other)
      throw refuse(
        scope,
        `targets ${other.entry.name ?? other.entry.component} and ${t.entry.name ?? t.entry.component} both go through listener ${l.port}`,
        'an NLB listener forwards to one target: give each its own listenerPort',
      );
    byListener.set(l.port, t);
  }
  const out = new Map<number, Output<string>>();
  for (const l of listeners) {
    const t = byListener.get(l.port);
    out.set(l.port, t ? groupOf(scope, l, t) : made(scope, l, { component: '' }));
  }
  return out;
}

/** A listener's target group: the one given, else one made for its target (or empty, for one to be registered later). */
function groupOf(scope: AwsScope, l: ListenerSpec, t: Target): Output<string> {
  const e = t.entry;
  if (t.attached) return made(scope, l, e);
  const kind = targetKind(scope, e.component);
  if (kind === 'target-group') {
    warnUnapplied(scope, e, ['port', 'healthCheck', 'deregistrationDelay', 'preserveClientIp', 'proxyProtocol']);
    return scope.pulumi.output(e.component);
  }
  return made(scope, l, e, kind);
}

/**
 * The target group behind listener `l` (named by its port): TCP behind a TLS listener (TLS ends here), the listener's
 * protocol otherwise; addresses (`ip`) for a MicroService's tasks; an ALB only behind TCP.
 */
function made(scope: AwsScope, l: ListenerSpec, e: TargetEntry, kind?: 'instance' | 'ip' | 'alb'): Output<string> {
  if (kind === 'alb' && l.protocol !== 'TCP') throw refuse(scope, `an ALB target needs a TCP listener; ${l.port} is ${l.protocol}`);
  const port = e.port ?? l.port;
  const hc = (e.healthCheck ?? {}) as NlbHealthCheck;
  const hcProtocol = hc.protocol ?? (kind === 'alb' ? 'HTTP' : 'TCP');
  return targetGroup(
    scope,
    String(l.port),
    {
      targetType: kind ?? 'ip',
      port,
      protocol: l.protocol === 'TLS' ? 'TCP' : l.protocol,
      healthCheck: {
        enabled: true,
        protocol: hcProtocol,
        port: hc.port !== undefined ? String(hc.port) : 'traffic-port',
        ...(hcProtocol !== 'TCP' ? { path: hc.path ?? '/healthz' } : {}),
        ...(hc.interval !== undefined ? { interval: hc.interval } : {}),
        ...(hc.healthyThreshold !== undefined ? { healthyThreshold: hc.healthyThreshold } : {}),
        ...(hc.unhealthyThreshold !== undefined ? { unhealthyThreshold: hc.unhealthyThreshold } : {}),
      },
      // An ALB target keeps the client's address in X-Forwarded-For, and takes neither setting.
      ...(kind === 'alb' ? {} : { preserveClientIp: String(e.preserveClientIp ?? true), proxyProtocolV2: e.proxyProtocol ?? false }),
      ...(e.deregistrationDelay !== undefined ? { deregistrationDelay: e.deregistrationDelay } : {}),
    },
    kind ? { kind, id: e.component, port } : undefined,
  ).arn;
}

function listener(
  scope: AwsScope,
  lb: awsModule.lb.LoadBalancer,
  l: ListenerSpec,
  certificates: string[],
  targetGroupArn: Output<string>,
): awsModule.lb.Listener {
  const { aws } = scope;
  const tls = l.protocol === 'TLS';
  const made = new aws.lb.Listener(
    `listener-${l.port}`,
    {
      loadBalancerArn: lb.arn,
      port: l.port,
      protocol: l.protocol,
      defaultActions: [{ type: 'forward', targetGroupArn }],
      ...(tls ? { certificateArn: certificates[0]!, sslPolicy: DEFAULT_SSL_POLICY, ...(l.alpn ? { alpnPolicy: l.alpn } : {}) } : {}),
    },
    scope.opts({ parent: lb }),
  );
  if (tls) extraCertificates(scope, made, l.port, certificates);
  return made;
}
