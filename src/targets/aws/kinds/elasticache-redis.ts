/**
 * ElastiCacheRedis on AWS: an ElastiCache replication group (Redis or Valkey), sharded when
 * `clusterMode` says so, in the isolated subnets (its subnet group), with a parameter group of the
 * engine's family holding the spec's parameters (and cluster-enabled in cluster mode). Encrypted
 * at rest (the spec's KMS key, else AWS's) and in transit (TLS) unless the spec turns them off;
 * clients AUTH with the token of the spec's secret, read when the program runs and kept secret in
 * Pulumi's state (ElastiCache takes nothing but the value). With replicas it fails over by itself,
 * across zones in production, where it also has a replica per shard, a week of snapshots and a
 * final snapshot by default. Its slow log and engine log go to log groups with the stack's
 * retention. ElastiCache has no deletion protection of its own: `deletionProtection` protects it
 * in Pulumi. Alarms per node (CloudWatch keeps ElastiCache's metrics per node): cpu (the engine's
 * thread), memory, evictions, connections, replica-lag.
 */
import type { Output } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import type { AwsScope, Outputs } from '../scope.js';
import type { SecretRef } from '../secrets.js';
import {
  addStoreAlarms,
  applyImmediately,
  backupDays,
  nodeSuffixes,
  metricsOf,
  parameterList,
  placement,
  protection,
  secretValue,
  type AlarmTarget,
  type DataSpec,
} from './data-common.js';

interface RedisSpec extends DataSpec {
  engine?: 'redis' | 'valkey';
  engineVersion?: string;
  nodeType?: string;
  clusterMode?: boolean;
  shards?: number;
  replicasPerShard?: number;
  multiAz?: boolean;
  port?: number;
  transitEncryption?: boolean;
  authToken?: SecretRef;
}

/** Pinned, so that a plan does not change when AWS's default does. */
const DEFAULT_VERSIONS = { redis: '7.1', valkey: '8.0' };

/** The parameter group family of an engine version: redis7, redis6.x, redis5.0, valkey8 ... */
export function redisFamily(engine: 'redis' | 'valkey', version: string): string {
  const [major = '7', minor = '0'] = version.split('.');
  if (engine === 'valkey' || Number(major) >= 7) return `${engine}${major}`;
  return Number(major) === 6 ? 'redis6.x' : `redis${major}.${minor}`;
}

export function translateElastiCacheRedis(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as RedisSpec;
  const engine = spec.engine ?? 'redis';
  const version = spec.engineVersion ?? DEFAULT_VERSIONS[engine];
  const clusterMode = spec.clusterMode ?? false;
  const shards = clusterMode ? (spec.shards ?? 1) : 1;
  // A replica is what failover and multi-AZ need: production has one unless the spec says.
  const replicas = spec.replicasPerShard ?? (scope.isProduction ? 1 : 0);
  const multiAz = spec.multiAz ?? (scope.isProduction && replicas > 0);
  const transit = spec.transitEncryption ?? true;
  if (multiAz && replicas === 0)
    throw new DeployerError('INVALID_INPUT', `${scope.id}: multiAz needs a replica to fail over to: set replicasPerShard to 1 or more`);
  if (spec.authToken && !transit)
    throw new DeployerError('INVALID_INPUT', `${scope.id}: an AUTH token is sent only over TLS: remove transitEncryption: false`);
  const groupId = scope.physicalName({ max: 40, lowercase: true });
  const port = spec.port ?? 6379;
  const place = placement(scope);
  const { opts } = protection(scope);
  const subnetGroup = new aws.elasticache.SubnetGroup(
    'subnets',
    { name: groupId, description: `${scope.id} (deployer)`, subnetIds: place.subnetIds },
    scope.opts(),
  );
  const parameterGroup = new aws.elasticache.ParameterGroup(
    'parameters',
    {
      name: groupId,
      family: redisFamily(engine, version),
      description: `${scope.id} (deployer)`,
      parameters: parameterList({ ...(clusterMode ? { 'cluster-enabled': 'yes' } : {}), ...(spec.parameters ?? {}) }, undefined, [
        'yes',
        'no',
      ]),
    },
    scope.opts(),
  );
  const logs = (['slow-log', 'engine-log'] as const).map((logType) => ({
    logType,
    group: scope.logGroup(`/aws/elasticache/${groupId}/${logType}`, `logs-${logType}`),
  }));
  const snapshots = backupDays(scope, 7, 0);
  const kms = spec.encryption?.kmsKeyId ? scope.kmsKey(spec.encryption.kmsKeyId) : undefined;
  const group = new aws.elasticache.ReplicationGroup(
    'replication-group',
    {
      replicationGroupId: groupId,
      description: `${scope.id} (deployer)`,
      engine,
      engineVersion: version,
      nodeType: spec.nodeType ?? (scope.isProduction ? 'cache.r7g.large' : 'cache.t4g.micro'),
      port,
      ...(clusterMode
        ? { clusterMode: 'enabled', numNodeGroups: shards, replicasPerNodeGroup: replicas }
        : { clusterMode: 'disabled', numCacheClusters: 1 + replicas }),
      // Cluster mode fails over by itself; without it, failover needs a replica.
      automaticFailoverEnabled: clusterMode || replicas > 0,
      multiAzEnabled: multiAz,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: place.securityGroupIds,
      parameterGroupName: parameterGroup.name,
      atRestEncryptionEnabled: spec.encryption?.enabled ?? true,
      ...(kms ? { kmsKeyId: kms } : {}),
      transitEncryptionEnabled: transit,
      ...(spec.authToken ? { authToken: secretValue(scope, spec.authToken) } : {}),
      snapshotRetentionLimit: snapshots,
      ...(spec.backup?.window ? { snapshotWindow: spec.backup.window } : {}),
      ...(snapshots > 0 || scope.isProduction ? { finalSnapshotIdentifier: `${groupId}-final` } : {}),
      ...(spec.maintenanceWindow ? { maintenanceWindow: spec.maintenanceWindow } : {}),
      autoMinorVersionUpgrade: true,
      applyImmediately: applyImmediately(scope),
      logDeliveryConfigurations: logs.map((l) => ({
        logType: l.logType,
        destinationType: 'cloudwatch-logs',
        destination: l.group.name,
        logFormat: 'json',
      })),
    },
    scope.opts(opts),
  );
  addStoreAlarms(
    scope,
    nodeSuffixes(clusterMode ? shards : undefined, 1 + replicas).map((suffix) =>
      nodeAlarms(suffix, scope.pulumi.interpolate`${group.replicationGroupId}-${suffix}`, replicas > 0),
    ),
  );
  return {
    primaryEndpoint: clusterMode ? '' : group.primaryEndpointAddress,
    readerEndpoint: clusterMode ? '' : group.readerEndpointAddress,
    configurationEndpoint: clusterMode ? group.configurationEndpointAddress : '',
    port,
    arn: group.arn,
    id: group.id,
  };
}

/** A node's metrics; its alarms are named after the node (`-001`, `-0002-001`). */
function nodeAlarms(suffix: string, memberId: Output<string>, replicated: boolean): AlarmTarget {
  const m = metricsOf('AWS/ElastiCache', { CacheClusterId: memberId });
  return {
    suffix,
    label: `node ${suffix}`,
    catalog: {
      // Redis runs commands on one thread: the engine's CPU is what saturates.
      cpu: m('EngineCPUUtilization'),
      memory: m('DatabaseMemoryUsagePercentage'),
      evictions: m('Evictions', 'Sum'),
      connections: m('CurrConnections', 'Maximum'),
      ...(replicated ? { 'replica-lag': m('ReplicationLag', 'Maximum') } : {}),
    },
  };
}
