/**
 * What the data kinds on AWS share (RDS, DocumentDB, DynamoDB, ElastiCache Redis and Memcached,
 * MemoryDB): their placement (isolated subnets and the security groups the spec names, else a
 * group of their own that admits nothing), deletion protection (on in production, and a Pulumi
 * `protect` when the spec asks for it), backups on in production, engine parameters as AWS takes
 * them, a secret's value read at deploy time where AWS takes nothing else (kept secret in Pulumi's
 * state), and alarms on each member of a store (a node, a replica) rather than on the whole.
 */
import type { CustomResourceOptions, Input, Output } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import type { SubnetTier } from '../../../model/stack-infra.js';
import { addAlarms, type MetricCatalog, type MetricRef } from '../alarms.js';
import type { AwsScope } from '../scope.js';
import type { SecretRef } from '../secrets.js';

/** The spec fields every data kind has (defs.schema.json). */
export interface DataSpec {
  network?: { subnets?: SubnetTier; subnetIds?: string[]; securityGroups?: string[] };
  encryption?: { enabled: boolean; kmsKeyId?: string };
  deletionProtection?: boolean;
  backup?: { retentionDays: number; window?: string };
  maintenanceWindow?: string;
  parameters?: Record<string, string | number | boolean>;
}

/** Where a store is placed: its subnets (isolated unless the spec says) and security groups. */
export interface Placement {
  subnetIds: string[];
  securityGroupIds: Array<string | Output<string>>;
}

/**
 * The store's subnets and security groups. A store given no group gets one of its own with no
 * rule: nothing reaches it until a Security group is named (never the VPC's default group,
 * which admits whatever else is placed in it).
 */
export function placement(scope: AwsScope, defaultTier: SubnetTier = 'isolated'): Placement {
  const subnetIds = scope.subnetIds(defaultTier);
  const named = scope.securityGroupIds();
  if (named.length > 0) return { subnetIds, securityGroupIds: named };
  scope.pulumi.log.warn(
    `${scope.id}: no security group in spec.network.securityGroups; it gets one of its own that admits nothing (name a Security group that admits its clients)`,
  );
  const group = new scope.aws.ec2.SecurityGroup(
    'security-group',
    {
      name: scope.physicalName({ max: 255 }),
      description: `${scope.id} (deployer): admits nothing until a Security group is named`,
      vpcId: scope.vpcId(),
      tags: { Name: scope.physicalName({ max: 255 }) },
    },
    scope.opts(),
  );
  return { subnetIds, securityGroupIds: [group.id] };
}

/** AWS deletion protection (the spec's, else on in production), and Pulumi's `protect` when the spec asks for it. */
export function protection(scope: AwsScope): { deletionProtection: boolean; opts: CustomResourceOptions } {
  const asked = (scope.spec as DataSpec).deletionProtection;
  return { deletionProtection: asked ?? scope.isProduction, opts: asked ? { protect: true } : {} };
}

/** Days automated backups are kept: the spec's, else `production` in production and `other` elsewhere. */
export function backupDays(scope: AwsScope, production: number, other: number): number {
  return (scope.spec as DataSpec).backup?.retentionDays ?? (scope.isProduction ? production : other);
}

/** Changes wait for the maintenance window in production; elsewhere they apply at once. */
export function applyImmediately(scope: AwsScope): boolean {
  return !scope.isProduction;
}

/** Engine parameters as AWS takes them (strings; booleans as 1/0 unless `booleans` says otherwise), sorted. */
export function parameterList(
  params: Record<string, string | number | boolean>,
  applyMethod?: 'immediate' | 'pending-reboot',
  booleans: [string, string] = ['1', '0'],
): Array<{ name: string; value: string; applyMethod?: string }> {
  return Object.entries(params)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, v]) => ({
      name,
      value: typeof v === 'boolean' ? booleans[v ? 0 : 1] : String(v),
      ...(applyMethod ? { applyMethod } : {}),
    }));
}

/**
 * A secret's value, for the few inputs AWS takes nothing but the value of (a cache's AUTH token,
 * a user's password, a password the spec chose): read from Secrets Manager when the program
 * runs, never in a plan or a log, and marked secret so that Pulumi's state keeps it encrypted.
 * `#jsonKey` picks one key of a JSON secret.
 */
export function secretValue(scope: AwsScope, ref: SecretRef): Output<string> {
  const [name, jsonKey] = ref.secretRef.key.split('#') as [string, string | undefined];
  const version = scope.aws.secretsmanager.getSecretVersionOutput({ secretId: name }, { provider: scope.provider });
  const value = version.secretString.apply((s) => {
    if (!jsonKey) return s;
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch {
      // Never the value in the message.
      throw new DeployerError('APPLY_FAILED', `${scope.id}: the secret ${name} is not JSON, so it has no key ${jsonKey}`);
    }
    const picked = (parsed as Record<string, unknown> | null)?.[jsonKey];
    if (typeof picked !== 'string') throw new DeployerError('APPLY_FAILED', `${scope.id}: the secret ${name} has no string key ${jsonKey}`);
    return picked;
  });
  return scope.pulumi.secret(value);
}

/**
 * How ElastiCache and MemoryDB name the nodes of a cluster after it (and CloudWatch measures
 * them): `-001`, `-002` ... unsharded, `-0001-001`, `-0001-002`, `-0002-001` ... by shard.
 */
export function nodeSuffixes(shards: number | undefined, nodesPerShard: number): string[] {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  const nodes = (prefix: string): string[] => Array.from({ length: nodesPerShard }, (_, n) => `${prefix}${pad(n + 1, 3)}`);
  if (shards === undefined) return nodes('');
  return Array.from({ length: shards }, (_, s) => nodes(`${pad(s + 1, 4)}-`)).flat();
}

/** The metrics of one CloudWatch namespace and dimensions, by name (and the statistic an alert that names none gets). */
export function metricsOf(
  namespace: string,
  dimensions: Record<string, Input<string>>,
): (metricName: string, statistic?: string) => MetricRef {
  return (metricName, statistic = 'Average') => ({ namespace, metricName, dimensions, statistic });
}

/** A member of a store measured on its own (a node, a replica): its alarms' names end with `suffix`, their descriptions say `label`. */
export interface AlarmTarget {
  suffix?: string;
  label?: string;
  catalog: MetricCatalog;
}

/**
 * Observability's alerts on a store whose metrics CloudWatch keeps per member (ElastiCache per
 * node, RDS per instance): one alarm per alert and member that has its metric. An alert no member
 * can measure is said once in the engine's log (addAlarms says it), and a custom one made once.
 */
export function addStoreAlarms(scope: AwsScope, targets: AlarmTarget[]): void {
  const alarms = scope.infra.observability.alarms;
  const measurable = new Set(targets.flatMap((t) => Object.keys(t.catalog)));
  const elsewhere = alarms.filter((a) => a.metric === 'custom' || !measurable.has(a.metric));
  if (elsewhere.length > 0) addAlarms(scope, {}, { alerts: elsewhere });
  for (const t of targets) {
    const mine = alarms.filter((a) => a.metric !== 'custom' && t.catalog[a.metric] !== undefined);
    if (mine.length > 0)
      addAlarms(scope, t.catalog, { alerts: mine, ...(t.suffix ? { part: { suffix: t.suffix, label: t.label ?? t.suffix } } : {}) });
  }
}
