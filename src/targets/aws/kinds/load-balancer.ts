/**
 * What ALB (alb.ts) and NLB (nlb.ts) share on AWS: the load balancer's placement (public
 * subnets when internet-facing, private ones when internal; the security groups named, else
 * one of its own opening exactly its listeners), its access logs, and its targets. A target
 * written as a component id is a MicroService, which attaches itself (it registers its own
 * target group and rule: microservice.ts); a target given as a value (a `valueFrom`, resolved)
 * is routed here: a target group ARN as it is, an instance id, an IP address or (NLB) an ALB in
 * a target group made here for it.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import type { AwsScope } from '../scope.js';
import { arnResource, isComponentId, refuse } from './edge.js';

/** A TLS policy of TLS 1.3 and 1.2 only, with forward secrecy (AWS's recommended one). */
export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

export interface ListenerSpec {
  port: number;
  protocol: string;
  redirectToHttps?: boolean;
  sslPolicy?: string;
  alpn?: string;
}

/** A target entry as the schemas write it (ALB's and NLB's fields together). */
export interface TargetEntry {
  name?: string;
  component: string;
  port?: number;
  listenerPort?: number;
  paths?: string[];
  hosts?: string[];
  priority?: number;
  weight?: number;
  healthCheck?: Record<string, unknown>;
  deregistrationDelay?: number;
  stickiness?: number | string;
  preserveClientIp?: boolean;
  proxyProtocol?: boolean;
}

export interface AccessLogsSpec {
  enabled?: boolean;
  bucket: string;
  prefix?: string;
}

/** A target of the spec: its place in `targets`, and whether a component attaches itself. */
export interface Target {
  index: number;
  entry: TargetEntry;
  /** A MicroService named by id: it makes its own target group and rule. */
  attached: boolean;
}

/** What a value a target resolved to is. */
export type TargetKind = 'target-group' | 'instance' | 'ip' | 'alb';

export function targetsOf(spec: { targets?: Array<string | TargetEntry> }): Target[] {
  return (spec.targets ?? []).map((t, index) => {
    const entry = typeof t === 'string' ? { component: t } : t;
    return { index, entry, attached: isComponentId(entry.component) };
  });
}

export function targetKind(scope: AwsScope, value: string): TargetKind {
  const resource = arnResource(value) ?? '';
  if (resource.startsWith('targetgroup/')) return 'target-group';
  if (resource.startsWith('loadbalancer/app/')) return 'alb';
  if (/^i-[0-9a-f]{8,17}$/.test(value)) return 'instance';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value) || /^[0-9a-f:]+:[0-9a-f:]*$/i.test(value)) return 'ip';
  throw refuse(
    scope,
    `a target resolved to "${value}", which is no target group ARN, instance id or IP address`,
    'name a MicroService by its id, or give a valueFrom of a target group ARN (a MicroService’s targetGroupArn), an EC2Instance’s id or privateIp',
  );
}

/** The listener a target is reached through: the one on its listenerPort, else the default one. */
export function listenerOf(scope: AwsScope, listeners: ListenerSpec[], entry: TargetEntry, fallback: ListenerSpec): ListenerSpec {
  if (entry.listenerPort === undefined) return fallback;
  const l = listeners.find((x) => x.port === entry.listenerPort);
  if (!l) throw refuse(scope, `a target names listener port ${entry.listenerPort}, which is none of its listeners`);
  return l;
}

/** Subnets of the load balancer; an internet-facing one must be where the internet reaches. */
export function placement(scope: AwsScope, internal: boolean): string[] {
  const tier = (scope.spec['network'] as { subnets?: string } | undefined)?.subnets;
  if (!internal && tier !== undefined && tier !== 'public')
    throw refuse(
      scope,
      `an internet-facing load balancer in ${tier} subnets is reached by no one`,
      'set internal: true, or network.subnets: public',
    );
  return scope.subnetIds(internal ? 'private' : 'public');
}

/** IP protocols a listener's protocol is carried on (security group rules). */
function ipProtocols(protocol: string): string[] {
  if (protocol === 'UDP') return ['udp'];
  if (protocol === 'TCP_UDP') return ['tcp', 'udp'];
  return ['tcp'];
}

/**
 * The security groups named in spec.network, else a group of the load balancer's own: its
 * listeners' ports open to the internet (internet-facing) or to the VPC (internal), and out
 * only to the VPC, where its targets are. Never the VPC's default group.
 */
export function securityGroups(scope: AwsScope, listeners: ListenerSpec[], internal: boolean): Input<string>[] {
  const named = scope.securityGroupIds();
  if (named.length > 0) return named;
  const { aws } = scope;
  const vpcId = scope.vpcId();
  const name = scope.physicalName({ max: 255 });
  const group = new aws.ec2.SecurityGroup(
    'security-group',
    { name, description: `${scope.kind} ${scope.id}: its listeners (deployer)`, vpcId, tags: { Name: name } },
    scope.opts(),
  );
  const vpcCidr = aws.ec2.getVpcOutput({ id: vpcId }, { provider: scope.provider }).cidrBlock;
  const child = scope.opts({ parent: group });
  const source = internal ? vpcCidr : '0.0.0.0/0';
  for (const l of listeners)
    for (const ipProtocol of ipProtocols(l.protocol))
      new aws.vpc.SecurityGroupIngressRule(
        `security-group-ingress-${l.port}-${ipProtocol}`,
        {
          securityGroupId: group.id,
          ipProtocol,
          fromPort: l.port,
          toPort: l.port,
          cidrIpv4: source,
          description: `${l.protocol} listener on ${l.port}`,
        },
        child,
      );
  for (const ipProtocol of [...new Set(listeners.flatMap((l) => ipProtocols(l.protocol)))].sort())
    new aws.vpc.SecurityGroupEgressRule(
      `security-group-egress-${ipProtocol}`,
      { securityGroupId: group.id, ipProtocol, fromPort: 0, toPort: 65535, cidrIpv4: vpcCidr, description: 'to its targets, in the VPC' },
      child,
    );
  return [group.id];
}

/**
 * Access logs to the bucket named (its name, resolved). The bucket's policy must let the
 * region's Elastic Load Balancing log delivery write there, and ALB logs only to a bucket
 * encrypted with S3-managed keys: both are the bucket's (the S3 component's), not this one's.
 */
export function accessLogs(logs: AccessLogsSpec | undefined): awsModule.types.input.lb.LoadBalancerAccessLogs | undefined {
  if (!logs) return undefined;
  return { bucket: logs.bucket, enabled: logs.enabled ?? true, ...(logs.prefix ? { prefix: logs.prefix.replace(/\/+$/, '') } : {}) };
}

/** The part of an ARN CloudWatch names a load balancer or target group by (`app/name/id`, `targetgroup/name/id`). */
export function metricDimension(arn: Output<string>, kind: 'loadbalancer' | 'targetgroup'): Output<string> {
  return arn.apply((a) => {
    const resource = a.split(':').slice(5).join(':');
    return kind === 'loadbalancer' ? resource.replace(/^loadbalancer\//, '') : resource;
  });
}

/** A target group made here for a target given as a value, and what it registers. */
export interface MadeTargetGroup {
  group: awsModule.lb.TargetGroup;
  arn: Output<string>;
}

/**
 * A target group of the load balancer (`target-group-<key>`, its name at most 32 characters as
 * AWS allows), with what it registers when the target is an instance, an address or an ALB.
 */
export function targetGroup(
  scope: AwsScope,
  key: string,
  args: awsModule.lb.TargetGroupArgs,
  target?: { kind: TargetKind; id: string; port: number },
): MadeTargetGroup {
  const { aws } = scope;
  const group = new aws.lb.TargetGroup(
    `target-group-${key}`,
    { name: scope.physicalName({ max: 32, suffix: `-tg${key}` }), vpcId: scope.vpcId(), ...args },
    scope.opts(),
  );
  if (target)
    new aws.lb.TargetGroupAttachment(
      `target-group-${key}`,
      { targetGroupArn: group.arn, targetId: target.id, port: target.port },
      scope.opts({ parent: group }),
    );
  return { group, arn: group.arn };
}

/** Settings of a target group that cannot be applied to one only named by its ARN: said, not dropped silently. */
export function warnUnapplied(scope: AwsScope, entry: TargetEntry, fields: Array<keyof TargetEntry>): void {
  const set = fields.filter((f) => entry[f] !== undefined);
  if (set.length > 0)
    scope.pulumi.log.warn(
      `${scope.id}: target ${entry.name ?? entry.component} is a target group of its own; its ${set.join(', ')} are that group’s to set, not the load balancer’s`,
    );
}

/** Outputs of a load balancer's listeners: the ARN by port, and the default listener's. */
export function listenerOutputs(
  listeners: Map<number, awsModule.lb.Listener>,
  defaultPort: number,
): { listenerArn: Output<string>; listenerArns: Record<string, Output<string>> } {
  return {
    listenerArn: listeners.get(defaultPort)!.arn,
    listenerArns: Object.fromEntries([...listeners].map(([port, l]) => [String(port), l.arn])),
  };
}

/** A URL's port part, left out when it is the scheme's own. */
export function portSuffix(port: number, scheme: 'http' | 'https'): string {
  return (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80) ? '' : `:${port}`;
}

/** A TLS listener's certificates beyond its default (the first), chosen by SNI. */
export function extraCertificates(
  scope: AwsScope,
  listener: awsModule.lb.Listener,
  port: number,
  certificates: ReadonlyArray<Input<string>>,
): void {
  certificates
    .slice(1)
    .forEach(
      (certificateArn, i) =>
        new scope.aws.lb.ListenerCertificate(
          `listener-${port}-certificate-${i + 1}`,
          { listenerArn: listener.arn, certificateArn },
          scope.opts({ parent: listener }),
        ),
    );
}
