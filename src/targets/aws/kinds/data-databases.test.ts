/**
 * The aws target's translation of the databases of test/fixtures/aws-data (RDS PostgreSQL, Aurora
 * MySQL, DocumentDB: kinds/rds.ts, documentdb.ts) under Pulumi's runtime mocks, in dev and in
 * production (whose overlays make them bigger, replicated and protected). Their resources are
 * kept as golden files (test/fixtures/aws-golden/data/, written by data-stack.test.ts); the
 * assertions below say what a reviewer must find there.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KEY, alarmsOf, ofType, only, parameters, resourceSet, translateData } from '../../../../test/helpers/aws-data.js';
import type { TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { SECRET_SHOWN, type MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-data stack in %s', (env) => {
  const prod = env === 'production';
  let stack: TranslatedStack;
  const run = (id: string): MockedRun => stack.runs.get(id)!;

  beforeAll(async () => {
    ({ stack } = await translateData(env));
  }, 120_000);
  afterAll(() => vi.restoreAllMocks());

  it('makes RDS PostgreSQL encrypted with the stack’s key, TLS forced, its password kept by RDS; multi-AZ, protected and replicated in production', () => {
    const r = run('sql/main');
    expect(resourceSet(r)).toEqual(
      [
        ...['cpu', 'free-storage'].map((a) => `aws:cloudwatch/metricAlarm:MetricAlarm alarm-${a}`),
        ...(prod
          ? ['cpu', 'free-storage', 'replica-lag'].flatMap((a) =>
              [1, 2].map((i) => `aws:cloudwatch/metricAlarm:MetricAlarm alarm-${a}-replica-${i}`),
            )
          : []),
        'aws:cloudwatch/logGroup:LogGroup logs-postgresql',
        'aws:cloudwatch/logGroup:LogGroup logs-upgrade',
        ...(prod
          ? [1, 2].flatMap((i) => ['postgresql', 'upgrade'].map((l) => `aws:cloudwatch/logGroup:LogGroup logs-replica-${i}-${l}`))
          : []),
        ...(prod ? ['aws:iam/role:Role monitoring', 'aws:iam/rolePolicyAttachment:RolePolicyAttachment monitoring'] : []),
        'aws:rds/instance:Instance instance',
        ...(prod ? ['aws:rds/instance:Instance replica-1', 'aws:rds/instance:Instance replica-2'] : []),
        'aws:rds/parameterGroup:ParameterGroup parameters',
        'aws:rds/subnetGroup:SubnetGroup subnets',
        'pulumi:providers:aws aws',
      ].sort(),
    );
    const [primary, ...replicas] = ofType(r, 'aws:rds/instance:Instance');
    expect(primary!.inputs).toMatchObject({
      identifier: `store-${env}-sql-main`,
      engine: 'postgres',
      engineVersion: '16.4',
      instanceClass: prod ? 'db.r7g.large' : 'db.t4g.small',
      allocatedStorage: prod ? 200 : 20,
      maxAllocatedStorage: prod ? 1000 : 100,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: KEY,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: KEY,
      username: 'orders_admin',
      dbName: 'orders',
      dbSubnetGroupName: `store-${env}-sql-main`,
      parameterGroupName: `store-${env}-sql-main`,
      iamDatabaseAuthenticationEnabled: true,
      multiAz: prod,
      deletionProtection: prod,
      backupRetentionPeriod: prod ? 30 : 3,
      backupWindow: '02:00-03:00',
      maintenanceWindow: 'sun:03:00-sun:04:00',
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `store-${env}-sql-main-final`,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: KEY,
      enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
      applyImmediately: !prod,
    });
    expect(primary!.inputs).not.toHaveProperty('password');
    expect(parameters(only(r, 'aws:rds/parameterGroup:ParameterGroup'))).toEqual({
      'rds.force_ssl': '1',
      log_connections: '1',
      log_min_duration_statement: '500',
    });
    expect(only(r, 'aws:rds/parameterGroup:ParameterGroup')['family']).toBe('postgres16');
    expect(ofType(r, 'aws:cloudwatch/logGroup:LogGroup').map((g) => g.inputs['retentionInDays'])).toEqual(
      Array(prod ? 6 : 2).fill(prod ? 90 : 30),
    );
    // Replicas replicate the primary, keep no backups of their own, and are protected as it is.
    expect(replicas.map((x) => x.inputs)).toEqual(
      (prod ? [1, 2] : []).map((i) =>
        expect.objectContaining({
          identifier: `store-${env}-sql-main-replica-${i}`,
          replicateSourceDb: `store-${env}-sql-main`,
          backupRetentionPeriod: 0,
          skipFinalSnapshot: true,
          deletionProtection: true,
          vpcSecurityGroupIds: ['sg-db-id'],
        }),
      ),
    );
    // Enhanced monitoring where Observability asks for it (production), with a role only RDS's monitoring may assume.
    if (prod) {
      expect(JSON.parse(String(only(r, 'aws:iam/role:Role')['assumeRolePolicy']))).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: ['monitoring.rds.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
      });
      expect(only(r, 'aws:iam/rolePolicyAttachment:RolePolicyAttachment')['policyArn']).toBe(
        'arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole',
      );
      expect(primary!.inputs).toMatchObject({ monitoringInterval: 60 });
    } else expect(primary!.inputs).not.toHaveProperty('monitoringInterval');
    expect(alarmsOf(r).filter(([name]) => name.startsWith('alarm-replica-lag'))).toEqual(
      (prod ? [1, 2] : []).map((i) => [
        `alarm-replica-lag-replica-${i}`,
        'ReplicaLag',
        { DBInstanceIdentifier: `store-${env}-sql-main-replica-${i}` },
      ]),
    );
    expect(r.outputs).toMatchObject({ id: `store-${env}-sql-main`, port: 5432, databaseName: 'orders' });
  });

  it('makes Aurora MySQL: a cluster with a writer and readers, TLS required, its password from its secret and kept secret', () => {
    const r = run('sql/analytics');
    const cluster = only(r, 'aws:rds/cluster:Cluster');
    expect(cluster).toMatchObject({
      clusterIdentifier: `store-${env}-sql-analytics`,
      engine: 'aurora-mysql',
      engineVersion: '8.0.mysql_aurora.3.08.0',
      databaseName: 'analytics',
      masterUsername: 'analyst',
      masterPassword: SECRET_SHOWN,
      manageMasterUserPassword: false,
      storageEncrypted: true,
      dbSubnetGroupName: `store-${env}-sql-analytics`,
      backupRetentionPeriod: prod ? 14 : 1,
      deletionProtection: prod,
      skipFinalSnapshot: !prod,
      enabledCloudwatchLogsExports: ['error', 'slowquery'],
    });
    // No key named: AWS's own encrypts it.
    expect(cluster).not.toHaveProperty('kmsKeyId');
    expect(parameters(only(r, 'aws:rds/clusterParameterGroup:ClusterParameterGroup'))).toEqual({
      require_secure_transport: 'ON',
      slow_query_log: '1',
      long_query_time: '2',
    });
    expect(
      ofType(r, 'aws:rds/clusterInstance:ClusterInstance').map((i) => [i.name, i.inputs['instanceClass'], i.inputs['promotionTier']]),
    ).toEqual(
      prod
        ? [
            ['instance-1', 'db.r7g.large', 0],
            ['instance-2', 'db.r7g.large', 1],
            ['instance-3', 'db.r7g.large', 2],
          ]
        : [['instance-1', 'db.t4g.medium', 0]],
    );
    expect(alarmsOf(r).map(([name, metric]) => [name, metric])).toEqual([
      ['alarm-cpu', 'CPUUtilization'],
      ...(prod ? [['alarm-replica-lag', 'AuroraReplicaLagMaximum']] : []),
    ]);
    expect(r.outputs['readerAddress']).toMatch(/^ro\./);
  });

  it('makes DocumentDB with TLS, the stack’s key, its password kept by DocumentDB, audit logs; more instances, protected in production', () => {
    const r = run('docs/catalog');
    expect(only(r, 'aws:docdb/cluster:Cluster')).toMatchObject({
      clusterIdentifier: `store-${env}-docs-catalog`,
      engineVersion: '5.0.0',
      storageEncrypted: true,
      kmsKeyId: KEY,
      manageMasterUserPassword: true,
      masterUsername: 'catalogadmin',
      port: 27017,
      backupRetentionPeriod: prod ? 14 : 3,
      deletionProtection: prod,
      skipFinalSnapshot: false,
      enabledCloudwatchLogsExports: ['audit'],
      preferredMaintenanceWindow: 'sat:03:00-sat:04:00',
    });
    expect(only(r, 'aws:docdb/clusterParameterGroup:ClusterParameterGroup')).toMatchObject({
      family: 'docdb5.0',
      parameters: [
        { name: 'audit_logs', value: 'enabled', applyMethod: 'pending-reboot' },
        { name: 'tls', value: 'enabled', applyMethod: 'pending-reboot' },
      ],
    });
    expect(ofType(r, 'aws:docdb/clusterInstance:ClusterInstance').map((i) => i.inputs['instanceClass'])).toEqual(
      prod ? Array(3).fill('db.r6g.large') : ['db.t4g.medium'],
    );
    expect(only(r, 'aws:cloudwatch/logGroup:LogGroup')['name']).toBe(`/aws/docdb/store-${env}-docs-catalog/audit`);
    expect(alarmsOf(r).map(([name, metric]) => [name, metric])).toEqual([
      ['alarm-connections', 'DatabaseConnections'],
      ['alarm-cpu', 'CPUUtilization'],
    ]);
  });
});
