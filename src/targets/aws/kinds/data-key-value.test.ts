/**
 * The aws target's translation of the key-value stores of test/fixtures/aws-data (two DynamoDB
 * tables, ElastiCache Redis, Valkey in cluster mode and Memcached, MemoryDB: kinds/dynamodb.ts,
 * elasticache-redis.ts, elasticache-memcached.ts, memorydb.ts) under Pulumi's runtime mocks, in
 * dev and in production (whose overlays make them bigger, replicated and protected). Their
 * resources are kept as golden files (test/fixtures/aws-golden/data/, written by
 * data-stack.test.ts); the assertions below say what a reviewer must find there.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KEY, alarmsOf, names, ofType, only, translateData } from '../../../../test/helpers/aws-data.js';
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
});
