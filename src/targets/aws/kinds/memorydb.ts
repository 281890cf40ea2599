/**
 * AWSMemoryDB on AWS: a MemoryDB cluster (Redis or Valkey, durable) in the isolated subnets (its
 * subnet group), with a parameter group of the engine's family holding the spec's parameters, TLS
 * required unless the spec turns it off, encrypted at rest always (the spec's KMS key, else
 * AWS's), and an ACL of the spec's users, each with the password of its secret (read when the
 * program runs and kept secret in Pulumi's state: MemoryDB takes nothing but the value); without
 * `acl`, MemoryDB's open-access ACL, as the schema says. Snapshots: a week in production, a day
 * elsewhere, and a final one. MemoryDB has no deletion protection of its own:
 * `deletionProtection` protects it in Pulumi. Alarms per node: cpu (the engine's thread), memory,
 * evictions, connections, replica-lag.
 */
import type * as awsModule from '@pulumi/aws';
import type { Output } from '@pulumi/pulumi';
import { DeployerError } from '../../../errors.js';
import type { AwsScope, Outputs } from '../scope.js';
import type { SecretRef } from '../secrets.js';
import {
  addStoreAlarms,
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

interface MemoryDbSpec extends DataSpec {
  engine?: 'redis' | 'valkey';
  engineVersion?: string;
  nodeType?: string;
  shards?: number;
  replicasPerShard?: number;
  port?: number;
  tls?: boolean;
  acl?: { users: Array<{ name: string; accessString: string; password: SecretRef }> };
}

/** Pinned, so that a plan does not change when AWS's default does. */
const DEFAULT_VERSIONS = { redis: '7.1', valkey: '7.2' };

export function translateAWSMemoryDB(scope: AwsScope): Outputs {
  const { aws, pulumi } = scope;
  const spec = scope.spec as MemoryDbSpec;
  const engine = spec.engine ?? 'redis';
  const version = spec.engineVersion ?? DEFAULT_VERSIONS[engine];
  const tls = spec.tls ?? true;
  if (spec.acl && !tls)
    throw new DeployerError('INVALID_INPUT', `${scope.id}: MemoryDB lets users in only over TLS: remove tls: false, or the acl`);
  const name = scope.physicalName({ max: 40, lowercase: true });
  const port = spec.port ?? 6379;
  const shards = spec.shards ?? 1;
  const replicas = spec.replicasPerShard ?? 1;
  const place = placement(scope);
  const { opts } = protection(scope);
  const subnetGroup = new aws.memorydb.SubnetGroup(
    'subnets',
    { name, description: `${scope.id} (deployer)`, subnetIds: place.subnetIds },
    scope.opts(),
  );
  const parameterGroup = new aws.memorydb.ParameterGroup(
    'parameters',
    {
      name,
      family: `memorydb_${engine}${version.split('.')[0]}`,
      description: `${scope.id} (deployer)`,
      ...(spec.parameters ? { parameters: parameterList(spec.parameters, undefined, ['yes', 'no']) } : {}),
    },
    scope.opts(),
  );
  const aclName = spec.acl ? accessList(scope, name, spec.acl.users).name : 'open-access';
  const snapshots = backupDays(scope, 7, 1);
  const kms = spec.encryption?.kmsKeyId ? scope.kmsKey(spec.encryption.kmsKeyId) : undefined;
  if (spec.encryption?.enabled === false)
    pulumi.log.warn(`${scope.id}: MemoryDB always encrypts at rest; encryption.enabled: false is not used`);
  const cluster = new aws.memorydb.Cluster(
    'cluster',
    {
      name,
      description: `${scope.id} (deployer)`,
      engine,
      engineVersion: version,
      nodeType: spec.nodeType ?? (scope.isProduction ? 'db.r7g.large' : 'db.t4g.small'),
      numShards: shards,
      numReplicasPerShard: replicas,
      port,
      aclName,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: place.securityGroupIds,
      parameterGroupName: parameterGroup.name,
      tlsEnabled: tls,
      ...(kms ? { kmsKeyArn: kms } : {}),
      snapshotRetentionLimit: snapshots,
      ...(spec.backup?.window ? { snapshotWindow: spec.backup.window } : {}),
      finalSnapshotName: `${name}-final`,
      ...(spec.maintenanceWindow ? { maintenanceWindow: spec.maintenanceWindow } : {}),
      autoMinorVersionUpgrade: true,
    },
    scope.opts(opts),
  );
  addStoreAlarms(
    scope,
    nodeSuffixes(shards, 1 + replicas).map((suffix) =>
      nodeAlarms(suffix, cluster.name, pulumi.interpolate`${cluster.name}-${suffix}`, replicas > 0),
    ),
  );
  return {
    clusterEndpoint: cluster.clusterEndpoints.apply((e) => e?.[0]?.address ?? ''),
    port,
    arn: cluster.arn,
    name: cluster.name,
  };
}

/** The spec's users (their passwords from their secrets) and the ACL of them the cluster lets in. */
function accessList(scope: AwsScope, name: string, users: NonNullable<MemoryDbSpec['acl']>['users']): awsModule.memorydb.Acl {
  const made = users.map(
    (u) =>
      new scope.aws.memorydb.User(
        `user-${u.name}`,
        {
          // The name clients AUTH with, as the spec gives it (MemoryDB's users are the region's, shared by its clusters).
          userName: u.name,
          accessString: u.accessString,
          authenticationMode: { type: 'password', passwords: [secretValue(scope, u.password)] },
        },
        scope.opts(),
      ),
  );
  return new scope.aws.memorydb.Acl('acl', { name, userNames: made.map((u) => u.userName) }, scope.opts());
}

/** A node's metrics; its alarms are named after the node (`-0001-001`). */
function nodeAlarms(suffix: string, clusterName: Output<string>, nodeName: Output<string>, replicated: boolean): AlarmTarget {
  const m = metricsOf('AWS/MemoryDB', { ClusterName: clusterName, NodeName: nodeName });
  return {
    suffix,
    label: `node ${suffix}`,
    catalog: {
      cpu: m('EngineCPUUtilization'),
      memory: m('DatabaseMemoryUsagePercentage'),
      evictions: m('Evictions', 'Sum'),
      connections: m('CurrConnections', 'Maximum'),
      ...(replicated ? { 'replica-lag': m('ReplicationLag', 'Maximum') } : {}),
    },
  };
}
