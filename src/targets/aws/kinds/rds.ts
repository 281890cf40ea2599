/**
 * RDS on AWS: a DB instance (with `readReplicas` instances replicating it), or for the aurora-*
 * engines an Aurora cluster with a writer and `readReplicas` readers (one at least when multi-AZ,
 * which is what multi-AZ means for Aurora). Always: a subnet group in the isolated subnets, a
 * parameter group of the engine's family with the spec's parameters and TLS forced (Oracle, which
 * takes it as an option, gets an option group requiring native network encryption), storage
 * encrypted (the spec's KMS key, else AWS's), the master password kept by RDS in Secrets Manager
 * (no password passes through deployer) unless the spec names a secret, its logs exported to log
 * groups with the stack's retention, and in production multi-AZ, deletion protection, 14 days of
 * backups and Performance Insights. Enhanced monitoring (with its role) when Observability's
 * detailedMonitoring says so. Alarms per instance: cpu, free-storage, connections, replica-lag.
 */
import type * as awsModule from '@pulumi/aws';
import type { Input, Output } from '@pulumi/pulumi';
import { trustPolicy } from '../iam.js';
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
  type AlarmTarget,
  type DataSpec,
  type Placement,
} from './data-common.js';
import { ENGINES, parameterFamily, type Engine, type EngineInfo } from './rds-engines.js';

interface RdsSpec extends DataSpec {
  engine: Engine;
  engineVersion?: string;
  instanceClass?: string;
  storage?: { allocatedGb?: number; maxAllocatedGb?: number; type?: string; iops?: number; throughputMbps?: number };
  multiAz?: boolean;
  readReplicas?: number;
  databaseName?: string;
  masterUsername?: string;
  masterPassword?: SecretRef;
  port?: number;
  iamAuthentication?: boolean;
  publiclyAccessible?: boolean;
  autoMinorVersionUpgrade?: boolean;
  performanceInsights?: { enabled: boolean; retentionDays?: number };
  snapshotIdentifier?: string;
  finalSnapshot?: boolean;
}

/** What the instances (or the cluster and its instances) share. */
interface Db {
  spec: RdsSpec;
  info: EngineInfo;
  version: string;
  aurora: boolean;
  identifier: string;
  port: number;
  instanceClass: string;
  kms: string | undefined;
  place: Placement;
  subnetGroup: awsModule.rds.SubnetGroup;
  protection: ReturnType<typeof protection>;
  monitoring: { monitoringInterval?: number; monitoringRoleArn?: Output<string> };
  insights: { performanceInsightsEnabled: boolean; performanceInsightsRetentionPeriod?: number; performanceInsightsKmsKeyId?: string };
}

export function translateRDS(scope: AwsScope): Outputs {
  const spec = scope.spec as unknown as RdsSpec;
  const info = ENGINES[spec.engine];
  const aurora = spec.engine.startsWith('aurora-');
  if (aurora && spec.storage) scope.pulumi.log.warn(`${scope.id}: Aurora's storage grows by itself; spec.storage is not used`);
  if (spec.publiclyAccessible) scope.pulumi.log.warn(`${scope.id}: publiclyAccessible gives the database a public address`);
  const place = placement(scope, spec.publiclyAccessible ? 'public' : 'isolated');
  const identifier = scope.physicalName({ max: 63, lowercase: true });
  const kms = spec.encryption?.kmsKeyId ? scope.kmsKey(spec.encryption.kmsKeyId) : undefined;
  const insights = spec.performanceInsights?.enabled ?? scope.isProduction;
  const db: Db = {
    spec,
    info,
    version: spec.engineVersion ?? info.version,
    aurora,
    identifier,
    port: spec.port ?? info.port,
    instanceClass: spec.instanceClass ?? info.classes[scope.isProduction ? 1 : 0],
    kms,
    place,
    subnetGroup: new scope.aws.rds.SubnetGroup(
      'subnets',
      { name: identifier, description: `${scope.id} (deployer)`, subnetIds: place.subnetIds },
      scope.opts(),
    ),
    protection: protection(scope),
    monitoring: enhancedMonitoring(scope),
    insights: insights
      ? {
          performanceInsightsEnabled: true,
          performanceInsightsRetentionPeriod: spec.performanceInsights?.retentionDays ?? 7,
          ...(kms ? { performanceInsightsKmsKeyId: kms } : {}),
        }
      : { performanceInsightsEnabled: false },
  };
  return aurora ? auroraCluster(scope, db) : dbInstance(scope, db);
}

/** The parameter group of the engine's family (a cluster's for Aurora): TLS forced, then the spec's parameters (which may say otherwise, explicitly). */
function parameterGroup(scope: AwsScope, db: Db): Output<string> {
  const args = {
    name: db.identifier,
    family: parameterFamily(db.spec.engine, db.version),
    description: `${scope.id} (deployer)`,
    // A change reaches a running database at its next reboot: AWS refuses `immediate` for static
    // parameters, and which are static deployer cannot know (a new database starts with them all).
    parameters: parameterList({ ...db.info.tls, ...(db.spec.parameters ?? {}) }, 'pending-reboot'),
  };
  const { rds } = scope.aws;
  return db.aurora
    ? new rds.ClusterParameterGroup('parameters', args, scope.opts()).name
    : new rds.ParameterGroup('parameters', args, scope.opts()).name;
}

/** Enhanced monitoring, when Observability's detailedMonitoring asks for it: every 60 s, with the role RDS sends metrics as. */
function enhancedMonitoring(scope: AwsScope): Db['monitoring'] {
  if (!scope.infra.observability.detailedMonitoring) return {};
  const { aws, pulumi } = scope;
  const boundary = scope.infra.iam.permissionsBoundary;
  const role = new aws.iam.Role(
    'monitoring',
    {
      name: scope.physicalName({ max: 64, suffix: '-monitoring' }),
      description: `RDS enhanced monitoring of ${scope.id} (deployer)`,
      assumeRolePolicy: trustPolicy(['monitoring.rds.amazonaws.com']),
      ...(boundary ? { permissionsBoundary: boundary } : {}),
    },
    scope.opts(),
  );
  const partition = aws.getPartitionOutput({}, { provider: scope.provider }).partition;
  new aws.iam.RolePolicyAttachment(
    'monitoring',
    { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole` },
    scope.opts({ parent: role }),
  );
  return { monitoringInterval: 60, monitoringRoleArn: role.arn };
}

/** The master user's password: RDS's own, kept in Secrets Manager, unless the spec names a secret. */
function masterPassword(scope: AwsScope, db: Db): { manageMasterUserPassword: boolean; masterUserSecretKmsKeyId?: string } {
  const chosen = db.spec.masterPassword;
  if (!chosen) return { manageMasterUserPassword: true, ...(db.kms ? { masterUserSecretKmsKeyId: db.kms } : {}) };
  return { manageMasterUserPassword: false, [db.aurora ? 'masterPassword' : 'password']: secretValue(scope, chosen) };
}

/** Log groups for the logs the database exports, made first so that RDS does not make them without retention. */
function logGroups(scope: AwsScope, db: Db, kind: 'instance' | 'cluster', id: string, prefix = ''): awsModule.cloudwatch.LogGroup[] {
  return db.info.logs.map((log) => scope.logGroup(`/aws/rds/${kind}/${id}/${log}`, `logs-${prefix}${log}`));
}

/** What every instance of the database is made with, Aurora's included. */
function common(scope: AwsScope, db: Db) {
  return {
    instanceClass: db.instanceClass,
    publiclyAccessible: db.spec.publiclyAccessible ?? false,
    autoMinorVersionUpgrade: db.spec.autoMinorVersionUpgrade ?? true,
    applyImmediately: applyImmediately(scope),
    copyTagsToSnapshot: true,
    ...db.insights,
    ...db.monitoring,
  };
}

/** The maintenance window: the spec's, else AWS picks one. */
function windows<K extends string>(db: Db, key: K): Partial<Record<K, string>> {
  return (db.spec.maintenanceWindow ? { [key]: db.spec.maintenanceWindow } : {}) as Partial<Record<K, string>>;
}

/** A final snapshot unless the spec says not to. */
function finalSnapshot(db: Db, id: string): { skipFinalSnapshot: boolean; finalSnapshotIdentifier?: string } {
  return db.spec.finalSnapshot === false
    ? { skipFinalSnapshot: true }
    : { skipFinalSnapshot: false, finalSnapshotIdentifier: `${id}-final` };
}

function dbInstance(scope: AwsScope, db: Db): Outputs {
  const { aws, pulumi } = scope;
  const spec = db.spec;
  const parameterGroupName = parameterGroup(scope, db);
  const optionGroup = spec.engine.startsWith('oracle-') ? oracleOptions(scope, db) : undefined;
  const storage = {
    storageType: spec.storage?.type ?? 'gp3',
    ...(spec.storage?.iops ? { iops: spec.storage.iops } : {}),
    ...(spec.storage?.throughputMbps ? { storageThroughput: spec.storage.throughputMbps } : {}),
    ...(spec.storage?.maxAllocatedGb ? { maxAllocatedStorage: spec.storage.maxAllocatedGb } : {}),
  };
  const shared = {
    ...common(scope, db),
    ...storage,
    port: db.port,
    parameterGroupName,
    ...(optionGroup ? { optionGroupName: optionGroup.name } : {}),
    vpcSecurityGroupIds: db.place.securityGroupIds,
    iamDatabaseAuthenticationEnabled: spec.iamAuthentication ?? false,
    enabledCloudwatchLogsExports: db.info.logs,
    deletionProtection: db.protection.deletionProtection,
    ...windows(db, 'maintenanceWindow'),
  };
  const sqlserver = spec.engine.startsWith('sqlserver-');
  if (sqlserver && spec.databaseName)
    pulumi.log.warn(`${scope.id}: RDS for SQL Server creates no database at launch; spec.databaseName is not used`);
  const primary = new aws.rds.Instance(
    'instance',
    {
      identifier: db.identifier,
      engine: spec.engine,
      engineVersion: db.version,
      allocatedStorage: spec.storage?.allocatedGb ?? 20,
      storageEncrypted: spec.encryption?.enabled ?? true,
      ...(db.kms ? { kmsKeyId: db.kms } : {}),
      dbSubnetGroupName: db.subnetGroup.name,
      multiAz: spec.multiAz ?? (scope.isProduction && spec.engine !== 'sqlserver-ex'),
      ...(spec.databaseName && !sqlserver ? { dbName: spec.databaseName } : {}),
      ...(spec.snapshotIdentifier ? { snapshotIdentifier: spec.snapshotIdentifier } : { username: spec.masterUsername ?? db.info.user }),
      ...masterPassword(scope, db),
      backupRetentionPeriod: backupDays(scope, 14, 1),
      ...(spec.backup?.window ? { backupWindow: spec.backup.window } : {}),
      deleteAutomatedBackups: !scope.isProduction,
      ...finalSnapshot(db, db.identifier),
      ...shared,
    },
    scope.opts({ ...db.protection.opts, dependsOn: logGroups(scope, db, 'instance', db.identifier) }),
  );
  const replicas = Array.from({ length: spec.readReplicas ?? 0 }, (_, i) => {
    const id = scope.physicalName({ max: 63, lowercase: true, suffix: `-replica-${i + 1}` });
    return new aws.rds.Instance(
      `replica-${i + 1}`,
      {
        identifier: id,
        replicateSourceDb: primary.identifier,
        // A replica keeps no backups and no final snapshot: the primary has them.
        backupRetentionPeriod: 0,
        skipFinalSnapshot: true,
        ...shared,
      },
      scope.opts({ ...db.protection.opts, dependsOn: logGroups(scope, db, 'instance', id, `replica-${i + 1}-`) }),
    );
  });
  const metrics = (id: Input<string>, replica: boolean): AlarmTarget['catalog'] => {
    const m = metricsOf('AWS/RDS', { DBInstanceIdentifier: id });
    return {
      cpu: m('CPUUtilization'),
      'free-storage': m('FreeStorageSpace', 'Minimum'),
      connections: m('DatabaseConnections', 'Maximum'),
      ...(replica ? { 'replica-lag': m('ReplicaLag', 'Maximum') } : {}),
    };
  };
  addStoreAlarms(scope, [
    { catalog: metrics(primary.identifier, false) },
    ...replicas.map((r, i) => ({ suffix: `replica-${i + 1}`, label: `read replica ${i + 1}`, catalog: metrics(r.identifier, true) })),
  ]);
  return {
    address: primary.address,
    port: primary.port,
    endpoint: primary.endpoint,
    readerAddress: primary.address,
    arn: primary.arn,
    id: primary.identifier,
    databaseName: pulumi.output(primary.dbName).apply((n) => n ?? ''),
  };
}

/** Oracle takes encryption in transit as an option: native network encryption, required of every client. */
function oracleOptions(scope: AwsScope, db: Db): awsModule.rds.OptionGroup {
  return new scope.aws.rds.OptionGroup(
    'options',
    {
      name: db.identifier,
      engineName: db.spec.engine,
      majorEngineVersion: db.version.split('.')[0]!,
      optionGroupDescription: `${scope.id} (deployer): native network encryption required`,
      options: [
        {
          optionName: 'NATIVE_NETWORK_ENCRYPTION',
          optionSettings: [
            { name: 'SQLNET.ENCRYPTION_SERVER', value: 'REQUIRED' },
            { name: 'SQLNET.CRYPTO_CHECKSUM_SERVER', value: 'REQUIRED' },
          ],
        },
      ],
    },
    scope.opts(),
  );
}

function auroraCluster(scope: AwsScope, db: Db): Outputs {
  const { aws, pulumi } = scope;
  const spec = db.spec;
  const multiAz = spec.multiAz ?? scope.isProduction;
  // Aurora is multi-AZ by a reader in another zone, which takes over when the writer fails.
  const readers = Math.max(spec.readReplicas ?? 0, multiAz ? 1 : 0);
  const cluster = new aws.rds.Cluster(
    'cluster',
    {
      clusterIdentifier: db.identifier,
      engine: spec.engine,
      engineVersion: db.version,
      port: db.port,
      ...(spec.databaseName ? { databaseName: spec.databaseName } : {}),
      ...(spec.snapshotIdentifier
        ? { snapshotIdentifier: spec.snapshotIdentifier }
        : { masterUsername: spec.masterUsername ?? db.info.user }),
      ...masterPassword(scope, db),
      dbSubnetGroupName: db.subnetGroup.name,
      dbClusterParameterGroupName: parameterGroup(scope, db),
      vpcSecurityGroupIds: db.place.securityGroupIds,
      storageEncrypted: spec.encryption?.enabled ?? true,
      ...(db.kms ? { kmsKeyId: db.kms } : {}),
      // Aurora keeps a day of backups at least.
      backupRetentionPeriod: Math.max(1, backupDays(scope, 14, 1)),
      deleteAutomatedBackups: !scope.isProduction,
      ...(spec.backup?.window ? { preferredBackupWindow: spec.backup.window } : {}),
      ...windows(db, 'preferredMaintenanceWindow'),
      ...finalSnapshot(db, db.identifier),
      iamDatabaseAuthenticationEnabled: spec.iamAuthentication ?? false,
      enabledCloudwatchLogsExports: db.info.logs,
      deletionProtection: db.protection.deletionProtection,
      copyTagsToSnapshot: true,
      applyImmediately: applyImmediately(scope),
    },
    scope.opts({ ...db.protection.opts, dependsOn: logGroups(scope, db, 'cluster', db.identifier) }),
  );
  Array.from(
    { length: 1 + readers },
    (_, i) =>
      new aws.rds.ClusterInstance(
        `instance-${i + 1}`,
        {
          identifier: scope.physicalName({ max: 63, lowercase: true, suffix: `-${i + 1}` }),
          clusterIdentifier: cluster.clusterIdentifier,
          engine: spec.engine as 'aurora-postgresql' | 'aurora-mysql',
          engineVersion: db.version,
          dbSubnetGroupName: db.subnetGroup.name,
          promotionTier: i,
          ...windows(db, 'preferredMaintenanceWindow'),
          ...common(scope, db),
        },
        scope.opts({ parent: cluster, ...db.protection.opts }),
      ),
  );
  const m = metricsOf('AWS/RDS', { DBClusterIdentifier: cluster.clusterIdentifier });
  addStoreAlarms(scope, [
    {
      catalog: {
        cpu: m('CPUUtilization'),
        connections: m('DatabaseConnections', 'Maximum'),
        ...(readers > 0 ? { 'replica-lag': m('AuroraReplicaLagMaximum', 'Maximum') } : {}),
      },
    },
  ]);
  return {
    address: cluster.endpoint,
    port: cluster.port,
    endpoint: pulumi.interpolate`${cluster.endpoint}:${cluster.port}`,
    readerAddress: cluster.readerEndpoint,
    arn: cluster.arn,
    id: cluster.clusterIdentifier,
    databaseName: pulumi.output(cluster.databaseName).apply((n) => n ?? ''),
  };
}
