/**
 * DocumentDB on AWS: an Amazon DocumentDB cluster in the isolated subnets (its subnet group), a
 * cluster parameter group of its engine's family with TLS required unless the spec turns it off
 * and the spec's parameters, its instances (two in production, so that one takes over when the
 * writer fails), storage encrypted (the spec's KMS key, else AWS's), the master password kept by
 * DocumentDB in Secrets Manager unless the spec names a secret, a final snapshot always (a
 * document database is data), backups (14 days in production) and deletion protection in
 * production. Its audit and profiler logs go to log groups with the stack's retention when the
 * spec's parameters turn them on. Alarms: cpu, connections, replica-lag.
 */
import type * as awsModule from '@pulumi/aws';
import type { Output } from '@pulumi/pulumi';
import type { AwsScope, Outputs } from '../scope.js';
import type { SecretRef } from '../secrets.js';
import {
  addStoreAlarms,
  applyImmediately,
  backupDays,
  metricsOf,
  parameterList,
  placement,
  protection,
  secretValue,
  type DataSpec,
} from './data-common.js';

interface DocumentDbSpec extends DataSpec {
  engineVersion?: string;
  instanceClass?: string;
  instances?: number;
  masterUsername?: string;
  masterPassword?: SecretRef;
  port?: number;
  tls?: boolean;
}

/** Pinned, so that a plan does not change when AWS's default does. */
const DEFAULT_VERSION = '5.0.0';

/** The parameter group family of a version: docdb5.0 for 5.0.0. */
export function documentDbFamily(version: string): string {
  const [major = '5', minor = '0'] = version.split('.');
  return `docdb${major}.${minor}`;
}

export function translateDocumentDB(scope: AwsScope): Outputs {
  const { aws } = scope;
  const spec = scope.spec as DocumentDbSpec;
  const version = spec.engineVersion ?? DEFAULT_VERSION;
  const identifier = scope.physicalName({ max: 63, lowercase: true });
  const port = spec.port ?? 27017;
  const place = placement(scope);
  const kms = spec.encryption?.kmsKeyId ? scope.kmsKey(spec.encryption.kmsKeyId) : undefined;
  const { deletionProtection, opts } = protection(scope);
  const subnetGroup = new aws.docdb.SubnetGroup(
    'subnets',
    { name: identifier, description: `${scope.id} (deployer)`, subnetIds: place.subnetIds },
    scope.opts(),
  );
  // TLS and the spec's parameters take effect at the instances' next reboot (a new cluster starts with them).
  const parameterGroup = new aws.docdb.ClusterParameterGroup(
    'parameters',
    {
      name: identifier,
      family: documentDbFamily(version),
      description: `${scope.id} (deployer)`,
      parameters: parameterList({ tls: spec.tls === false ? 'disabled' : 'enabled', ...(spec.parameters ?? {}) }, 'pending-reboot', [
        'enabled',
        'disabled',
      ]),
    },
    scope.opts(),
  );
  const logs = exportedLogs(spec);
  const logGroups = logs.map((log) => scope.logGroup(`/aws/docdb/${identifier}/${log}`, `logs-${log}`));
  const cluster = new aws.docdb.Cluster(
    'cluster',
    {
      clusterIdentifier: identifier,
      engine: 'docdb',
      engineVersion: version,
      port,
      masterUsername: spec.masterUsername ?? 'docdbadmin',
      ...masterPassword(scope, spec),
      dbSubnetGroupName: subnetGroup.name,
      dbClusterParameterGroupName: parameterGroup.name,
      vpcSecurityGroupIds: place.securityGroupIds,
      storageEncrypted: spec.encryption?.enabled ?? true,
      ...(kms ? { kmsKeyId: kms } : {}),
      // DocumentDB keeps a day of backups at least.
      backupRetentionPeriod: Math.max(1, backupDays(scope, 14, 1)),
      ...(spec.backup?.window ? { preferredBackupWindow: spec.backup.window } : {}),
      ...(spec.maintenanceWindow ? { preferredMaintenanceWindow: spec.maintenanceWindow } : {}),
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${identifier}-final`,
      deletionProtection,
      ...(logs.length ? { enabledCloudwatchLogsExports: logs } : {}),
      applyImmediately: applyImmediately(scope),
    },
    scope.opts({ ...opts, dependsOn: logGroups }),
  );
  const count = spec.instances ?? (scope.isProduction ? 2 : 1);
  instances(scope, spec, cluster, count, opts);
  const m = metricsOf('AWS/DocDB', { DBClusterIdentifier: cluster.clusterIdentifier });
  addStoreAlarms(scope, [
    {
      catalog: {
        cpu: m('CPUUtilization'),
        connections: m('DatabaseConnections', 'Maximum'),
        ...(count > 1 ? { 'replica-lag': m('DBClusterReplicaLagMaximum', 'Maximum') } : {}),
      },
    },
  ]);
  return {
    endpoint: cluster.endpoint,
    readerEndpoint: cluster.readerEndpoint,
    port: cluster.port,
    arn: cluster.arn,
    id: cluster.clusterIdentifier,
  };
}

/** The master password: DocumentDB's own, kept in Secrets Manager, unless the spec names a secret. */
function masterPassword(scope: AwsScope, spec: DocumentDbSpec): { manageMasterUserPassword: boolean; masterPassword?: Output<string> } {
  if (spec.masterPassword) return { manageMasterUserPassword: false, masterPassword: secretValue(scope, spec.masterPassword) };
  return { manageMasterUserPassword: true };
}

/** The logs the spec's parameters turn on (audit_logs, profiler), exported to CloudWatch. */
function exportedLogs(spec: DocumentDbSpec): string[] {
  const on = (v: unknown): boolean => v !== undefined && v !== false && v !== 'disabled' && v !== 'none';
  return [...(on(spec.parameters?.['audit_logs']) ? ['audit'] : []), ...(on(spec.parameters?.['profiler']) ? ['profiler'] : [])];
}

/** The writer and readers, the first readers first to take over (promotion tier). */
function instances(
  scope: AwsScope,
  spec: DocumentDbSpec,
  cluster: awsModule.docdb.Cluster,
  count: number,
  opts: ReturnType<typeof protection>['opts'],
): void {
  const instanceClass = spec.instanceClass ?? (scope.isProduction ? 'db.r6g.large' : 'db.t4g.medium');
  for (let i = 0; i < count; i++)
    new scope.aws.docdb.ClusterInstance(
      `instance-${i + 1}`,
      {
        identifier: scope.physicalName({ max: 63, lowercase: true, suffix: `-${i + 1}` }),
        clusterIdentifier: cluster.clusterIdentifier,
        engine: 'docdb',
        instanceClass,
        promotionTier: i,
        autoMinorVersionUpgrade: true,
        ...(spec.maintenanceWindow ? { preferredMaintenanceWindow: spec.maintenanceWindow } : {}),
        applyImmediately: applyImmediately(scope),
      },
      scope.opts({ parent: cluster, ...opts }),
    );
}
