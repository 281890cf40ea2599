/**
 * Policies of Compliance and Security documents, checked through discover() on aws-target
 * stacks: each rule type gives an error at the offending component (at the value at fault when
 * one is written, in the file that wrote it), `kinds` and `environments` narrow a rule, and an
 * `enforcement: advisory` violation is a warning in DesiredStack.warnings, not an error.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised, showProblem as show } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import type { DesiredStack } from '../model/desired.js';
import { discover } from './index.js';
import { evaluatePolicies } from './policies.js';

afterAll(removeTestdirs);

const stackDir = (files: Record<string, string>): string => writeStackDir(files);

function load(dir: string, environment = 'dev'): Promise<DesiredStack> {
  return discover({ dir, displayBase: dir, environment });
}

function problemsOf(dir: string, environment = 'dev'): Promise<string[]> {
  return problemsRaised(load(dir, environment));
}

const stackYaml = (region: string | undefined): string =>
  `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: pol\nspec:\n  environments: [dev, production]\n  target: aws\n${region ? `  region: ${region}\n` : ''}`;
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: data\n';
/** A component of service data; its spec lines start at line 6. */
const comp = (kind: string, name: string, specLines: string): [string, string] => [
  `services/data/${name}.yaml`,
  `apiVersion: components.deployer.io/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${specLines}`,
];
const F = (name: string): string => path.join('services', 'data', `${name}.yaml`);
/** A Compliance (or Security) document; each rule is its YAML lines, indented by 4. */
const rulesDoc = (rules: string, kind = 'Compliance'): string =>
  `apiVersion: infra.deployer.io/v1\nkind: ${kind}\nmetadata:\n  name: baseline\nspec:\n  rules:\n${rules}`;

function policyStack(
  rules: string,
  components: Array<[string, string]>,
  options: { region?: string; extra?: Record<string, string>; kind?: string } = {},
): string {
  return stackDir({
    'stack.yaml': stackYaml('region' in options ? options.region : 'eu-west-1'),
    'services/data/service.yaml': SERVICE,
    'infra/policies.yaml': rulesDoc(rules, options.kind),
    ...Object.fromEntries(components),
    ...options.extra,
  });
}

const ENCRYPTED = '  encryption:\n    enabled: true\n';

describe('policies: each rule type', () => {
  it('requiredTags: tags merged from the defaults count; a missing or empty tag is an error', async () => {
    const infra = 'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: d\nspec:\n  tags:\n    team: platform\n';
    const dir = policyStack(
      '    - name: tags\n      type: requiredTags\n      tags: [team, cost-center]\n',
      [
        comp('S3', 'ok', '  tags:\n    cost-center: "42"\n'),
        comp('S3', 'empty', '  tags:\n    cost-center: ""\n'),
        comp('SQS', 'none', '  fifo: false\n'),
      ],
      { extra: { 'infra/defaults.yaml': infra } },
    );
    expect(await problemsOf(dir)).toEqual([
      // No tags of its own: the tags come from InfraDefaults, which wrote them.
      `infra/defaults.yaml:6:3 SQS/none /spec/tags [policy:tags] policy "tags" (requiredTags): data/none is missing the required tag cost-center`,
      `${F('empty')}:6:3 S3/empty /spec/tags [policy:tags] policy "tags" (requiredTags): data/empty is missing the required tag cost-center`,
    ]);
  });

  it('encryptionRequired: data stores must say encryption.enabled: true; S3 encrypts unless told not to; compute is exempt', async () => {
    const dir = policyStack('    - name: enc\n      type: encryptionRequired\n', [
      comp('RDS', 'db', '  engine: postgres\n'),
      comp('RDS', 'db2', `  engine: postgres\n${ENCRYPTED}`),
      comp('DynamoDB', 'table', '  partitionKey:\n    name: pk\n  encryption:\n    enabled: false\n'),
      comp('S3', 'plain', '  versioning: true\n'),
      comp('S3', 'off', '  encryption:\n    enabled: false\n'),
      comp('Worker', 'worker', '  image: example/worker:1\n'),
    ]);
    const enc = (name: string): string =>
      `policy "enc" (encryptionRequired): data/${name} must be encrypted at rest: set encryption.enabled: true`;
    expect(await problemsOf(dir)).toEqual([
      `${F('db')}:5:1 RDS/db /spec/encryption [policy:enc] ${enc('db')}`,
      `${F('off')}:6:3 S3/off /spec/encryption [policy:enc] ${enc('off')}`,
      `${F('table')}:8:3 DynamoDB/table /spec/encryption [policy:enc] ${enc('table')}`,
    ]);
  });

  it('noPublicBuckets: an S3 bucket with publicAccess: true', async () => {
    const dir = policyStack('    - name: private\n      type: noPublicBuckets\n', [
      comp('S3', 'site', '  versioning: true\n  publicAccess: true\n'),
      comp('S3', 'logs', '  publicAccess: false\n'),
    ]);
    expect(await problemsOf(dir)).toEqual([
      `${F('site')}:7:3 S3/site /spec/publicAccess [policy:private] policy "private" (noPublicBuckets): data/site is a public bucket: set publicAccess: false`,
    ]);
  });

  it("allowedRegions: the component's region, else InfraDefaults', else the Stack's", async () => {
    const rule = '    - name: eu\n      type: allowedRegions\n      regions: [eu-west-1, eu-central-1]\n';
    const components = [
      comp('S3', 'inherits', '  versioning: true\n'),
      comp('S3', 'own', '  region: us-east-1\n'),
      comp('S3', 'ownok', '  region: eu-central-1\n'),
    ];
    const region = (name: string, r: string): string =>
      `${F(name)}:${name === 'own' ? '6:3' : '5:1'} S3/${name} /spec/region [policy:eu] policy "eu" (allowedRegions): data/${name} deploys to ${r}, which is not one of eu-west-1, eu-central-1`;
    // From the Stack.
    expect(await problemsOf(policyStack(rule, components, { region: 'us-west-2' }))).toEqual([
      region('inherits', 'us-west-2'),
      region('own', 'us-east-1'),
    ]);
    expect(await problemsOf(policyStack(rule, components, { region: 'eu-west-1' }))).toEqual([region('own', 'us-east-1')]);
    // InfraDefaults' region overrides the Stack's.
    const infra = (r: string): Record<string, string> => ({
      'infra/defaults.yaml': `apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: d\nspec:\n  region: ${r}\n`,
    });
    expect(await problemsOf(policyStack(rule, components, { region: 'eu-west-1', extra: infra('ap-south-1') }))).toEqual([
      region('inherits', 'ap-south-1'),
      region('own', 'us-east-1'),
    ]);
    expect(await problemsOf(policyStack(rule, components, { region: 'us-west-2', extra: infra('eu-west-1') }))).toEqual([
      region('own', 'us-east-1'),
    ]);
    // No region anywhere: nothing to check.
    expect(await problemsOf(policyStack(rule, components, { region: undefined }))).toEqual([region('own', 'us-east-1')]);
  });

  it('allowedInstanceClasses: instanceClass, nodeType and instanceType', async () => {
    const dir = policyStack(
      '    - name: sizes\n      type: allowedInstanceClasses\n      classes: [db.t4g.micro, cache.t4g.micro, t4g.small]\n',
      [
        comp('RDS', 'db', '  engine: postgres\n  instanceClass: db.m5.large\n'),
        comp('RDS', 'small', '  engine: postgres\n  instanceClass: db.t4g.micro\n'),
        comp('ElastiCacheRedis', 'cache', '  nodeType: cache.m5.large\n'),
        comp('EC2Instance', 'box', '  instanceType: m5.xlarge\n'),
      ],
    );
    const sizes = 'is not one of db.t4g.micro, cache.t4g.micro, t4g.small';
    expect(await problemsOf(dir)).toEqual([
      `${F('box')}:6:3 EC2Instance/box /spec/instanceType [policy:sizes] policy "sizes" (allowedInstanceClasses): data/box instanceType m5.xlarge ${sizes}`,
      `${F('cache')}:6:3 ElastiCacheRedis/cache /spec/nodeType [policy:sizes] policy "sizes" (allowedInstanceClasses): data/cache nodeType cache.m5.large ${sizes}`,
      `${F('db')}:7:3 RDS/db /spec/instanceClass [policy:sizes] policy "sizes" (allowedInstanceClasses): data/db instanceClass db.m5.large ${sizes}`,
    ]);
  });

  it('minBackupRetention: too few days, or no backup at all; a default that breaks it is reported in the defaults file', async () => {
    const infra =
      'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: d\nspec:\n  components:\n    DynamoDB:\n      backup:\n        retentionDays: 1\n';
    const dir = policyStack(
      '    - name: backups\n      type: minBackupRetention\n      days: 7\n',
      [
        comp('RDS', 'db', '  engine: postgres\n  backup:\n    retentionDays: 3\n'),
        comp('RDS', 'nobackup', '  engine: postgres\n'),
        comp('RDS', 'kept', '  engine: postgres\n  backup:\n    retentionDays: 7\n'),
        comp('DynamoDB', 'table', '  partitionKey:\n    name: pk\n'),
        comp('S3', 'bucket', '  versioning: true\n'),
      ],
      { extra: { 'infra/defaults.yaml': infra } },
    );
    const backups = (name: string, days: number): string =>
      `[policy:backups] policy "backups" (minBackupRetention): data/${name} keeps backups ${days} day(s); at least 7 are required`;
    expect(await problemsOf(dir)).toEqual([
      `infra/defaults.yaml:9:9 DynamoDB/table /spec/backup/retentionDays ${backups('table', 1)}`,
      `${F('db')}:8:5 RDS/db /spec/backup/retentionDays ${backups('db', 3)}`,
      `${F('nobackup')}:5:1 RDS/nobackup /spec/backup/retentionDays ${backups('nobackup', 0)}`,
    ]);
  });

  it('deletionProtection: stateful kinds only; a default of true satisfies it', async () => {
    const infra =
      'apiVersion: infra.deployer.io/v1\nkind: InfraDefaults\nmetadata:\n  name: d\nspec:\n  components:\n    RDS:\n      deletionProtection: true\n';
    const dir = policyStack(
      '    - name: keep\n      type: deletionProtection\n',
      [
        comp('RDS', 'db', '  engine: postgres\n'),
        comp('S3', 'bucket', '  deletionProtection: false\n'),
        comp('DynamoDB', 'table', '  partitionKey:\n    name: pk\n  deletionProtection: true\n'),
        comp('SQS', 'queue', '  fifo: false\n'),
      ],
      { extra: { 'infra/defaults.yaml': infra } },
    );
    expect(await problemsOf(dir)).toEqual([
      `${F('bucket')}:6:3 S3/bucket /spec/deletionProtection [policy:keep] policy "keep" (deletionProtection): data/bucket holds state: set deletionProtection: true`,
    ]);
  });
});

describe('policies: scope and enforcement', () => {
  const components = [comp('RDS', 'db', '  engine: postgres\n'), comp('S3', 'bucket', '  versioning: true\n')];
  const keep = (name: string, kind: string): string =>
    `${F(name)}:5:1 ${kind}/${name} /spec/deletionProtection [policy:keep] policy "keep" (deletionProtection): data/${name} holds state: set deletionProtection: true`;

  it('applies a rule with kinds to those kinds only', async () => {
    const dir = policyStack('    - name: keep\n      type: deletionProtection\n      kinds: [S3]\n', components);
    expect(await problemsOf(dir)).toEqual([keep('bucket', 'S3')]);
  });

  it('applies a rule with environments in those environments only', async () => {
    const dir = policyStack('    - name: keep\n      type: deletionProtection\n      environments: [production]\n', components);
    expect([...(await load(dir, 'dev')).components.keys()]).toEqual(['data/bucket', 'data/db']);
    expect(await problemsOf(dir, 'production')).toEqual([keep('bucket', 'S3'), keep('db', 'RDS')]);
  });

  it('makes an advisory violation a warning: the stack is valid and the warning is located like an error', async () => {
    const dir = policyStack(
      '    - name: keep\n      type: deletionProtection\n      enforcement: advisory\n    - name: enc\n      type: encryptionRequired\n      enforcement: enforced\n',
      [comp('RDS', 'db', `  engine: postgres\n${ENCRYPTED}`), comp('S3', 'bucket', '  versioning: true\n')],
    );
    const stack = await load(dir);
    expect(stack.warnings.map(show)).toEqual([keep('bucket', 'S3'), keep('db', 'RDS')]);
  });

  it('reports only the enforced violations as errors when both kinds occur', async () => {
    const dir = policyStack(
      '    - name: keep\n      type: deletionProtection\n      enforcement: advisory\n    - name: enc\n      type: encryptionRequired\n',
      components,
    );
    expect(await problemsOf(dir)).toEqual([
      `${F('db')}:5:1 RDS/db /spec/encryption [policy:enc] policy "enc" (encryptionRequired): data/db must be encrypted at rest: set encryption.enabled: true`,
    ]);
  });

  it('checks the rules of Security documents too', async () => {
    const dir = policyStack(
      '    - name: private\n      type: noPublicBuckets\n    - name: keep\n      type: deletionProtection\n      kinds: [RDS]\n      enforcement: advisory\n',
      [comp('RDS', 'db', '  engine: postgres\n'), comp('S3', 'bucket', '  publicAccess: true\n')],
      { kind: 'Security' },
    );
    expect(await problemsOf(dir)).toEqual([
      `${F('bucket')}:6:3 S3/bucket /spec/publicAccess [policy:private] policy "private" (noPublicBuckets): data/bucket is a public bucket: set publicAccess: false`,
    ]);
    const fixed = policyStack(
      '    - name: keep\n      type: deletionProtection\n      kinds: [RDS]\n      enforcement: advisory\n',
      components,
      { kind: 'Security' },
    );
    expect((await load(fixed)).warnings.map(show)).toEqual([keep('db', 'RDS')]);
  });

  it('checks the rules of every Compliance and Security document together', async () => {
    const dir = policyStack(
      '    - name: keep\n      type: deletionProtection\n      kinds: [RDS]\n',
      [components[0]!, comp('S3', 'bucket', '  publicAccess: true\n')],
      {
        extra: {
          'infra/security.yaml': rulesDoc('    - name: private\n      type: noPublicBuckets\n', 'Security').replace(
            'name: baseline',
            'name: sec',
          ),
        },
      },
    );
    expect(await problemsOf(dir)).toEqual([
      `${F('bucket')}:6:3 S3/bucket /spec/publicAccess [policy:private] policy "private" (noPublicBuckets): data/bucket is a public bucket: set publicAccess: false`,
      keep('db', 'RDS'),
    ]);
  });
});

describe('evaluatePolicies()', () => {
  it('names the rule, the component and what is wrong; advisory comes from the rule', () => {
    const subject = {
      id: 'data/db',
      kind: 'RDS',
      environment: 'dev',
      spec: { instanceClass: 'db.m5.large', tags: { team: 'x' } },
      region: 'us-east-1',
    };
    const out = evaluatePolicies(
      [
        { name: 'a', type: 'requiredTags', tags: ['team', 'owner'], enforcement: 'advisory' },
        { name: 'b', type: 'allowedRegions', regions: ['us-east-1'] },
        { name: 'c', type: 'allowedInstanceClasses', classes: ['db.t4g.micro'], kinds: ['RDS'], environments: ['dev'] },
      ],
      [subject],
    );
    expect(out.map((v) => [v.rule.name, v.advisory, v.pointer, v.message])).toEqual([
      ['a', true, '/tags', 'policy "a" (requiredTags): data/db is missing the required tag owner'],
      ['c', false, '/instanceClass', 'policy "c" (allowedInstanceClasses): data/db instanceClass db.m5.large is not one of db.t4g.micro'],
    ]);
  });
});
