/**
 * Components ready at the same moment share one Pulumi operation (engine/batch-operation.ts),
 * through the real engine: a stack of a base bucket and five buckets on it is two Pulumi
 * operations, not six; every component still has its own checkpoint holding only its own
 * resources, nothing of the shared operation stays behind, a resource that fails fails its own
 * component only, and drift checks each component on its own stack.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { removeTestdirs, writeStackDir } from '../helpers/testdir.js';

interface Report {
  id: string;
  result: string;
  reason?: string;
  changes?: Record<string, number>;
}
interface ApplyJson {
  ok: boolean;
  summary: { engineOperations: number; components: Report[]; rollback?: { components: Report[] } };
}

const LEAVES = ['a', 'b', 'c', 'd', 'blocked'];
let dir: string;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];
const pulumiStacks = (): string => path.join(dir, '.deployer', 'stacks', 'batch', 'dev', 'pulumi', '.pulumi', 'stacks', 'deployer');
const blocker = (): string => path.join(dir, '.deployer', 'local', 'batch', 'dev', 'buckets', 'batch-dev-store-blocked');
const bucket = (name: string, dependsOn?: string): string =>
  `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: ${name}\nspec:\n  versioning: false\n` +
  (dependsOn ? `  dependsOn: [${dependsOn}]\n` : '');

beforeAll(() => {
  dir = writeStackDir({
    // Partial recovery: the failed component is undone alone, the others stay deployed.
    'stack.yaml':
      'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: batch\nspec:\n  environments: [dev]\n  target: local\n' +
      '  rollback:\n    mode: auto\n    scope: failed\n',
    'services/store/service.yaml': 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: store\nspec:\n  owner: team\n',
    'services/store/base.yaml': bucket('base'),
    ...Object.fromEntries(LEAVES.map((l) => [`services/store/${l}.yaml`, bucket(l, 'store/base')])),
  });
  // A file where the bucket `blocked` would be: its create fails, the others' must not.
  mkdirSync(path.dirname(blocker()), { recursive: true });
  writeFileSync(blocker(), 'not a directory\n');
});

afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  removeTestdirs();
});

describe('components ready together share one Pulumi operation', () => {
  it('deploys the five leaves in one operation, fails only the blocked one, and keeps a checkpoint per component', async () => {
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(code).toBe(1);
    const r = Object.fromEntries(json.summary.components.map((c) => [c.id, c]));
    for (const ok of ['base', 'a', 'b', 'c', 'd']) expect(r[`store/${ok}`]).toMatchObject({ result: 'created', changes: { create: 2 } });
    expect(r['store/blocked']).toMatchObject({ result: 'failed' });
    expect(r['store/blocked']!.reason).toMatch(/pulumi up of batch\.dev\.store\.blocked failed: .*EEXIST/);
    // base alone, then the five leaves together; undoing a create that left nothing needs no operation.
    expect(json.summary.engineOperations).toBe(2);
    expect(json.summary.rollback?.components).toEqual([expect.objectContaining({ id: 'store/blocked', result: 'deleted' })]);

    // Each component's own checkpoint holds its own resources only, under its own names.
    const files = readdirSync(pulumiStacks()).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['a', 'b', 'base', 'c', 'd'].map((n) => `batch.dev.store.${n}.json`));
    for (const name of ['a', 'd']) {
      const stack = `batch.dev.store.${name}`;
      const checkpoint = JSON.parse(readFileSync(path.join(pulumiStacks(), `${stack}.json`), 'utf8')) as {
        checkpoint: { latest: { resources: Array<{ urn: string; parent?: string; provider?: string }> } };
      };
      const resources = checkpoint.checkpoint.latest.resources;
      expect(resources.map((x) => x.urn)).toEqual([
        `urn:pulumi:${stack}::deployer::pulumi:pulumi:Stack::deployer-${stack}`,
        `urn:pulumi:${stack}::deployer::pulumi:providers:pulumi-nodejs::default`,
        `urn:pulumi:${stack}::deployer::pulumi-nodejs:dynamic/local:S3::${name}`,
      ]);
      expect(resources[2]!.parent).toBe(resources[0]!.urn);
      expect(resources[2]!.provider?.startsWith(`${resources[1]!.urn}::`)).toBe(true);
    }
    // Nothing of the shared operation is left: no stack, no workspace.
    expect(readdirSync(pulumiStacks()).filter((f) => f.startsWith('deployer-batch.'))).toEqual([]);
    expect(readdirSync(path.join(dir, '.deployer', 'workspaces', 'batch', 'dev')).filter((f) => f.startsWith('deployer-batch.'))).toEqual(
      [],
    );
  });

  it('once the blocker is gone, only the failed component is deployed; drift checks each on its own stack', async () => {
    rmSync(blocker());
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(code).toBe(0);
    expect(json.summary.components.filter((c) => c.result !== 'unchanged').map((c) => [c.id, c.result])).toEqual([
      ['store/blocked', 'created'],
    ]);
    expect(json.summary.engineOperations).toBe(1);
    expect(existsSync(blocker())).toBe(true);
    const drift = await deployerJson<{ components: Array<{ id: string; status: string }> }>(args('drift'));
    expect(drift.code).toBe(0);
    expect(drift.json.components.map((c) => [c.id, c.status]).sort()).toEqual(
      ['a', 'b', 'base', 'blocked', 'c', 'd'].map((n) => [`store/${n}`, 'in-sync']),
    );
  });

  it('a destroy deletes in one operation, dependents first; one that cannot be deleted keeps what it depends on', async () => {
    // An object in bucket a: a bucket that is not empty refuses to be deleted.
    const object = path.join(dir, '.deployer', 'local', 'batch', 'dev', 'buckets', 'batch-dev-store-a', 'kept.txt');
    writeFileSync(object, 'still here\n');
    const refused = await deployerJson<ApplyJson>(args('destroy', '--yes'));
    expect(refused.code).toBe(1);
    const result = Object.fromEntries(refused.json.summary.components.map((c) => [c.id, c.result]));
    expect(result).toEqual({
      'store/a': 'failed',
      'store/base': 'skipped', // a still depends on it: it is not touched
      ...Object.fromEntries(['b', 'c', 'd', 'blocked'].map((l) => [`store/${l}`, 'deleted'])),
    });
    expect(refused.json.summary.components.find((c) => c.id === 'store/base')!.reason).toMatch(/store\/a/);
    expect(refused.json.summary.engineOperations).toBe(1);
    expect(existsSync(path.dirname(object))).toBe(true);
    expect(
      readdirSync(pulumiStacks())
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(['batch.dev.store.a.json', 'batch.dev.store.base.json']);

    rmSync(object);
    const { code, json } = await deployerJson<ApplyJson>(args('destroy', '--yes'));
    expect(code).toBe(0);
    expect(json.summary.components.map((c) => [c.id, c.result]).sort()).toEqual([
      ['store/a', 'deleted'],
      ['store/base', 'deleted'],
    ]);
    expect(json.summary.engineOperations).toBe(1); // a and base together, a first
    expect(readdirSync(pulumiStacks())).toEqual([]);
  });
});
