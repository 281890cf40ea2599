/**
 * The aws target's translation of the data stack test/fixtures/aws-data (RDS PostgreSQL and
 * Aurora MySQL, DocumentDB, two DynamoDB tables, ElastiCache Redis, Valkey in cluster mode and
 * Memcached, MemoryDB) under Pulumi's runtime mocks, in dev and in production (whose overlays
 * make them bigger, replicated and protected), as a whole: each component's resources are kept as
 * a golden file (test/fixtures/aws-golden/data/), every component is translated with what it
 * leaves out said, returns the outputs its kind declares, sits in the isolated subnets, holds no
 * secret value but where AWS takes only values, and is tagged. Each kind's own checks are in
 * data-databases.test.ts and data-key-value.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ISOLATED, declaredOutputs, golden, ofType, only, secretInputs, translateData } from '../../../../test/helpers/aws-data.js';
import { renderRun, type TranslatedStack } from '../../../../test/helpers/aws-translate.js';
import { MOCK_SECRET_VALUE, type MockedRun } from '../mocks.js';

describe.each(['dev', 'production'])('the aws-data stack in %s', (env) => {
  const prod = env === 'production';
  let stack: TranslatedStack;
  let warnings: string[] = [];
  const run = (id: string): MockedRun => stack.runs.get(id)!;

  beforeAll(async () => {
    ({ stack, warnings } = await translateData(env));
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
