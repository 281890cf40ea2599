/** `plan --out` then `apply plan.json`: exactly the reviewed plan, or a refusal that says why. */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { editFile, removeTestdirs, snapshotTree, testdir } from '../helpers/testdir.js';

let dir: string;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];

beforeAll(() => {
  dir = testdir('buckets');
});
afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  removeTestdirs();
});

describe('saved plans', () => {
  it('applies exactly the saved plan, without asking again', async () => {
    const file = path.join(dir, 'plan.json');
    const p = await deployer(args('plan', '--out', file));
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/Saved the plan to .*plan\.json\. Apply exactly this plan with: deployer apply .*plan\.json -e dev/);
    // Not a terminal, no --yes: a saved plan needs no confirmation.
    const { code, json } = await deployerJson<{ summary: { counts: Record<string, number> } }>(args('apply', file));
    expect(code).toBe(0);
    expect(json.summary.counts.created).toBe(2);
  });

  it('refuses a plan whose state moved on, and one whose configuration changed, changing nothing', async () => {
    const stale = path.join(dir, 'stale.json');
    await deployer(args('plan', '--out', stale));
    editFile(
      path.join(dir, 'services/store/buckets.yaml'),
      'name: logs\nspec:\n  versioning: false',
      'name: logs\nspec:\n  versioning: true',
    );
    await deployer(args('apply', '--yes'));
    const before = snapshotTree(path.join(dir, '.deployer'));

    const moved = await deployer(args('apply', stale));
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(
      /the saved plan .*stale\.json cannot be applied: the state moved on: serial \d+ now, \d+ when the plan was made/,
    );
    expect(moved.stderr).toMatch(/the configuration changed since the plan was made/);

    const fresh = path.join(dir, 'fresh.json');
    await deployer(args('plan', '--out', fresh));
    editFile(
      path.join(dir, 'services/store/buckets.yaml'),
      'name: images\nspec:\n  versioning: false',
      'name: images\nspec:\n  versioning: true',
    );
    const changed = await deployer(args('apply', fresh));
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/cannot be applied: the configuration changed since the plan was made/);
    expect(snapshotTree(path.join(dir, '.deployer'))).toEqual(before);
  });

  it('refuses a file that is not a saved plan', async () => {
    const r = await deployer(args('apply', path.join(dir, 'stack.yaml')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read the plan .*stack\.yaml/);
  });
});
