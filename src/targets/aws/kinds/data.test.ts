/**
 * The aws target's translation of the data kinds (test/fixtures/aws-data: RDS PostgreSQL and
 * Aurora MySQL, DocumentDB, two DynamoDB tables, ElastiCache Redis, Valkey in cluster mode and
 * Memcached, MemoryDB) under Pulumi's runtime mocks, in dev and in production (whose overlays
 * make them bigger, replicated and protected). Each component's resources are kept as a golden
 * file (test/fixtures/aws-golden/data/); the assertions below say what a reviewer must find there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderRun, translateStack, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { repoRoot } from '../../../../test/helpers/testdir.js';
import { MOCK_SECRET_VALUE, SECRET_SHOWN, type MockedResource, type MockedRun } from '../mocks.js';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'aws-data');
const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'data', env, `${id.replace('/', '.')}.yaml`);

/** The resources of a type, by name (the runtime registers them in no fixed order). */
const ofType = (run: MockedRun, type: string): MockedResource[] =>
  run.resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
const only = (run: MockedRun, type: string): Record<string, unknown> => {
  const found = ofType(run, type);
  expect(found, type).toHaveLength(1);
  return found[0]!.inputs;
};
const names = (run: MockedRun, type: string): string[] => ofType(run, type).map((r) => r.name);
/** Every resource as `type name`, sorted. */
const resourceSet = (run: MockedRun): string[] => run.resources.map((r) => `${r.type} ${r.name}`).sort();
const alarmsOf = (run: MockedRun): Array<[string, unknown, unknown]> =>
  ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => [a.name, a.inputs['metricName'], a.inputs['dimensions']]);
const parameters = (inputs: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries((inputs['parameters'] as Array<{ name: string; value: string }>).map((p) => [p.name, p.value]));

/** The outputs a kind declares for aws (its schema's x-deployer-target-outputs.aws, else x-deployer-outputs). */
function declaredOutputs(kind: string): string[] {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas', `${kind}.schema.json`), 'utf8')) as {
    'x-deployer-outputs': Record<string, string>;
    'x-deployer-target-outputs'?: { aws?: string[] };
  };
  return [...(schema['x-deployer-target-outputs']?.aws ?? Object.keys(schema['x-deployer-outputs']))].sort();
}

/** Where an input holds a secret: `component type name /pointer`. */
function secretInputs(id: string, run: MockedRun): string[] {
  const found: string[] = [];
  const walk = (v: unknown, at: string, r: MockedResource): void => {
    if (v === SECRET_SHOWN) found.push(`${id} ${r.type} ${r.name} ${at}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}/${i}`, r));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}/${k}`, r);
  };
  for (const r of run.resources) walk(r.inputs, '', r);
  return found;
}

const ISOLATED = ['isolated-0-id', 'isolated-1-id'];
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/kms-data';

describe.each(['dev', 'production'])('the aws-data stack in %s', (env) => {
  const prod = env === 'production';
  let stack: TranslatedStack;
  const warnings: string[] = [];
  const run = (id: string): MockedRun => stack.runs.get(id)!;

  beforeAll(async () => {
    // The runtime says a deprecated resource, and deployer an alert it cannot measure, with console.warn.
    const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.join(' ')));
    try {
      stack = await translateStack(fixture, env);
    } finally {
      warn.mockRestore();
    }
  }, 120_000);
  afterAll(() => vi.restoreAllMocks());

  it('keeps each component’s resources as its golden file', async () => {
    for (const [id, r] of stack.runs) {
      const c = stack.desired.components.get(id)!;
      await expect(renderRun(`${id} (${c.kind}) on aws, environment ${env}`, r)).toMatchFileSnapshot(golden(env, id));
    }
  });

  it('translates every component with current resources, saying what it leaves out', () => {
    expect([...stack.runs.keys()].sort()).toEqual([
      'cache/leaderboard',
      'cache/ledger',
      'cache/pages',
      'cache/sessions',
      'docs/catalog',
      'kv/counters',
      'kv/sessions',
      'sql/analytics',
      'sql/main',
      'stack/platform',
    ]);
    expect(warnings.filter((w) => /deprecated/i.test(w))).toEqual([]);
    expect(warnings.sort()).toEqual([
      expect.stringContaining('cache/pages: no security group in spec.network.securityGroups; it gets one of its own that admits nothing'),
      expect.stringContaining('sql/analytics: alert free-storage measures free-storage, which a RDS does not have'),
    ]);
  });

  it('returns exactly the outputs each kind declares', () => {
    for (const [id, r] of stack.runs) {
      const kind = stack.desired.components.get(id)!.kind;
      if (kind === 'Platform') continue;
      expect(Object.keys(r.outputs).sort(), id).toEqual(declaredOutputs(kind));
    }
  });

  it('places every store in the isolated subnets, behind the groups it names (or one of its own that admits nothing)', () => {
    const subnetGroups = [...stack.runs]
      .filter(([id]) => id !== 'stack/platform' && !id.startsWith('kv/'))
      .flatMap(([id, r]) => r.resources.filter((x) => x.type.endsWith('subnetGroup:SubnetGroup')).map((x) => [id, x.inputs['subnetIds']]));
    expect(subnetGroups).toHaveLength(7);
    for (const [id, ids] of subnetGroups) expect(ids, String(id)).toEqual(ISOLATED);
    expect(ofType(run('sql/main'), 'aws:rds/instance:Instance').map((i) => i.inputs['vpcSecurityGroupIds'])).toEqual(
      Array(prod ? 3 : 1).fill(['sg-db-id']),
    );
    expect(only(run('sql/analytics'), 'aws:rds/cluster:Cluster')['vpcSecurityGroupIds']).toEqual(['sg-db-id']);
    expect(only(run('docs/catalog'), 'aws:docdb/cluster:Cluster')['vpcSecurityGroupIds']).toEqual(['sg-db-id']);
    for (const id of ['cache/sessions', 'cache/leaderboard'])
      expect(only(run(id), 'aws:elasticache/replicationGroup:ReplicationGroup')['securityGroupIds'], id).toEqual(['sg-cache-id']);
    expect(only(run('cache/ledger'), 'aws:memorydb/cluster:Cluster')['securityGroupIds']).toEqual(['sg-cache-id']);
    // Memcached names none: a group of its own, in the VPC, with no rule.
    const pages = run('cache/pages');
    expect(only(pages, 'aws:ec2/securityGroup:SecurityGroup')).toMatchObject({ vpcId: 'vpc-id', name: `store-${env}-cache-pages` });
    expect(pages.resources.filter((x) => x.type.startsWith('aws:vpc/securityGroup'))).toEqual([]);
    expect(only(pages, 'aws:elasticache/cluster:Cluster')['securityGroupIds']).toEqual(['security-group-id']);
    for (const [id, r] of stack.runs)
      for (const x of r.resources) expect(x.inputs['publiclyAccessible'] ?? false, `${id} ${x.name}`).toBe(false);
  });

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

  it('makes DynamoDB tables with their keys, indexes, TTL and stream; recovery and deletion protection on in production unless told', () => {
    const sessions = only(run('kv/sessions'), 'aws:dynamodb/table:Table');
    expect(sessions).toMatchObject({
      name: `store-${env}-kv-sessions`,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'pk',
      rangeKey: 'sk',
      attributes: [
        { name: 'createdAt', type: 'N' },
        { name: 'pk', type: 'S' },
        { name: 'sk', type: 'S' },
        { name: 'status', type: 'S' },
        { name: 'userId', type: 'S' },
      ],
      globalSecondaryIndexes: [
        {
          name: 'by-user',
          keySchemas: [
            { attributeName: 'userId', keyType: 'HASH' },
            { attributeName: 'createdAt', keyType: 'RANGE' },
          ],
          projectionType: 'ALL',
        },
        {
          name: 'by-status',
          keySchemas: [{ attributeName: 'status', keyType: 'HASH' }],
          projectionType: 'INCLUDE',
          nonKeyAttributes: ['total'],
        },
      ],
      ttl: { attributeName: 'expiresAt', enabled: true },
      streamEnabled: true,
      streamViewType: 'NEW_IMAGE',
      serverSideEncryption: { enabled: true, kmsKeyArn: KEY },
      pointInTimeRecovery: prod ? { enabled: true, recoveryPeriodInDays: 35 } : { enabled: false },
      deletionProtectionEnabled: prod,
      tableClass: 'STANDARD',
    });
    const counters = only(run('kv/counters'), 'aws:dynamodb/table:Table');
    expect(counters).toMatchObject({
      name: prod ? 'store-counters-production' : 'store-counters',
      billingMode: 'PROVISIONED',
      readCapacity: prod ? 50 : 5,
      writeCapacity: prod ? 20 : 5,
      attributes: [{ name: 'id', type: 'N' }],
      tableClass: 'STANDARD_INFREQUENT_ACCESS',
      // The spec turns recovery off: off in production too.
      pointInTimeRecovery: { enabled: false },
      streamEnabled: false,
    });
    // No encryption asked: DynamoDB's own (AWS owned) key.
    expect(counters).not.toHaveProperty('serverSideEncryption');
    expect(counters).not.toHaveProperty('globalSecondaryIndexes');
    expect(run('kv/counters').outputs['streamArn']).toBe('');
    expect(run('kv/sessions').outputs['streamArn']).toMatch(/\/stream\//);
    expect(alarmsOf(run('kv/sessions'))).toEqual([
      ['alarm-throttles-reads', 'ReadThrottleEvents', { TableName: `store-${env}-kv-sessions` }],
      ['alarm-throttles-writes', 'WriteThrottleEvents', { TableName: `store-${env}-kv-sessions` }],
    ]);
  });

  it('makes a Redis replication group encrypted both ways, its AUTH token a secret; failover, multi-AZ and snapshots in production', () => {
    const r = run('cache/sessions');
    const group = only(r, 'aws:elasticache/replicationGroup:ReplicationGroup');
    expect(group).toMatchObject({
      replicationGroupId: `store-${env}-cache-sessions`,
      engine: 'redis',
      engineVersion: '7.1',
      nodeType: prod ? 'cache.r7g.large' : 'cache.t4g.small',
      clusterMode: 'disabled',
      numCacheClusters: prod ? 3 : 1,
      automaticFailoverEnabled: prod,
      multiAzEnabled: prod,
      atRestEncryptionEnabled: true,
      kmsKeyId: KEY,
      transitEncryptionEnabled: true,
      authToken: SECRET_SHOWN,
      snapshotRetentionLimit: prod ? 7 : 0,
      maintenanceWindow: 'sun:04:00-sun:05:00',
      logDeliveryConfigurations: [
        expect.objectContaining({ logType: 'slow-log', destination: `/aws/elasticache/store-${env}-cache-sessions/slow-log` }),
        expect.objectContaining({ logType: 'engine-log', destination: `/aws/elasticache/store-${env}-cache-sessions/engine-log` }),
      ],
    });
    if (prod) expect(group).toMatchObject({ finalSnapshotIdentifier: `store-${env}-cache-sessions-final`, snapshotWindow: '00:00-01:00' });
    else expect(group).not.toHaveProperty('finalSnapshotIdentifier');
    expect(only(r, 'aws:elasticache/parameterGroup:ParameterGroup')).toMatchObject({
      family: 'redis7',
      parameters: [{ name: 'maxmemory-policy', value: 'allkeys-lru' }],
    });
    // An alarm per node: CloudWatch keeps ElastiCache's metrics per node.
    const nodes = prod ? ['001', '002', '003'] : ['001'];
    expect(alarmsOf(r).map(([name]) => name)).toEqual(
      ['cpu', 'evictions', 'memory', ...(prod ? ['replica-lag'] : [])].flatMap((a) => nodes.map((n) => `alarm-${a}-${n}`)),
    );
    expect(alarmsOf(r)[0]).toEqual(['alarm-cpu-001', 'EngineCPUUtilization', { CacheClusterId: `store-${env}-cache-sessions-001` }]);
    expect(r.outputs).toMatchObject({ configurationEndpoint: '', port: 6379 });
    expect(r.outputs['primaryEndpoint']).not.toBe('');
  });

  it('makes Valkey in cluster mode: shards of a primary and a replica, cluster-enabled, alarms per node', () => {
    const r = run('cache/leaderboard');
    const shards = prod ? 3 : 2;
    expect(only(r, 'aws:elasticache/replicationGroup:ReplicationGroup')).toMatchObject({
      engine: 'valkey',
      engineVersion: '8.0',
      clusterMode: 'enabled',
      numNodeGroups: shards,
      replicasPerNodeGroup: 1,
      automaticFailoverEnabled: true,
      multiAzEnabled: prod,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
    });
    expect(only(r, 'aws:elasticache/parameterGroup:ParameterGroup')).toMatchObject({
      family: 'valkey8',
      parameters: [{ name: 'cluster-enabled', value: 'yes' }],
    });
    expect(
      alarmsOf(r)
        .filter(([name]) => name.startsWith('alarm-cpu-'))
        .map(([, , d]) => (d as Record<string, string>)['CacheClusterId']),
    ).toEqual(Array.from({ length: shards }, (_, s) => [1, 2].map((n) => `store-${env}-cache-leaderboard-000${s + 1}-00${n}`)).flat());
    expect(r.outputs).toMatchObject({ primaryEndpoint: '', readerEndpoint: '' });
    expect(r.outputs['configurationEndpoint']).not.toBe('');
  });

  it('makes a Memcached cluster with TLS, its nodes spread over zones in production', () => {
    const r = run('cache/pages');
    expect(only(r, 'aws:elasticache/cluster:Cluster')).toMatchObject({
      clusterId: `store-${env}-cache-pages`,
      engine: 'memcached',
      engineVersion: '1.6.22',
      numCacheNodes: prod ? 3 : 2,
      azMode: prod ? 'cross-az' : 'single-az',
      transitEncryptionEnabled: true,
      port: 11211,
    });
    expect(only(r, 'aws:elasticache/parameterGroup:ParameterGroup')).toMatchObject({
      family: 'memcached1.6',
      parameters: [{ name: 'max_item_size', value: '2097152' }],
    });
    expect(alarmsOf(r).map(([name, metric]) => [name, metric])).toEqual([
      ['alarm-connections', 'CurrConnections'],
      ['alarm-cpu', 'CPUUtilization'],
      ['alarm-evictions', 'Evictions'],
    ]);
    expect(r.outputs['configurationEndpoint']).toMatch(/:11211$/);
  });

  it('makes a MemoryDB cluster with TLS, the stack’s key and an ACL of users whose passwords are secrets', () => {
    const r = run('cache/ledger');
    expect(names(r, 'aws:memorydb/user:User')).toEqual(['user-ledger-app', 'user-ledger-reader']);
    expect(ofType(r, 'aws:memorydb/user:User').map((u) => u.inputs)).toEqual([
      {
        userName: 'ledger-app',
        accessString: 'on ~* &* +@all -@dangerous',
        authenticationMode: { type: 'password', passwords: [SECRET_SHOWN] },
      },
      { userName: 'ledger-reader', accessString: 'on ~* &* +@read', authenticationMode: { type: 'password', passwords: [SECRET_SHOWN] } },
    ]);
    expect(only(r, 'aws:memorydb/acl:Acl')).toEqual({ name: `store-${env}-cache-ledger`, userNames: ['ledger-app', 'ledger-reader'] });
    expect(only(r, 'aws:memorydb/cluster:Cluster')).toMatchObject({
      name: `store-${env}-cache-ledger`,
      engine: 'valkey',
      engineVersion: '7.2',
      aclName: `store-${env}-cache-ledger`,
      tlsEnabled: true,
      kmsKeyArn: KEY,
      numShards: prod ? 2 : 1,
      numReplicasPerShard: prod ? 2 : 1,
      snapshotRetentionLimit: prod ? 14 : 1,
      finalSnapshotName: `store-${env}-cache-ledger-final`,
    });
    expect(only(r, 'aws:memorydb/parameterGroup:ParameterGroup')).toEqual({
      name: `store-${env}-cache-ledger`,
      family: 'memorydb_valkey7',
      description: 'cache/ledger (deployer)',
    });
    expect(alarmsOf(r)).toHaveLength(3 * (prod ? 6 : 2));
  });

  it('puts no secret value in any input: the few AWS takes only as values are secrets, the rest are RDS’s own', () => {
    for (const [id, r] of stack.runs) expect(JSON.stringify(r), id).not.toContain(MOCK_SECRET_VALUE);
    expect([...stack.runs].flatMap(([id, r]) => secretInputs(id, r)).sort()).toEqual([
      'cache/ledger aws:memorydb/user:User user-ledger-app /authenticationMode/passwords/0',
      'cache/ledger aws:memorydb/user:User user-ledger-reader /authenticationMode/passwords/0',
      'cache/sessions aws:elasticache/replicationGroup:ReplicationGroup replication-group /authToken',
      'sql/analytics aws:rds/cluster:Cluster cluster /masterPassword',
    ]);
  });

  it('tags every resource through the provider', () => {
    for (const [id, r] of stack.runs) {
      if (id === 'stack/platform') continue;
      const provider = only(r, 'pulumi:providers:aws');
      expect(JSON.parse(String(provider['defaultTags'])).tags, id).toMatchObject({ project: 'store', 'deployer:component': id });
    }
  });
});
