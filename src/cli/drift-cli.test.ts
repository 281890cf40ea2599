/**
 * `deployer drift` and `deployer reconcile` where no Pulumi engine is needed, run in process as a
 * user types them: a stack never applied, and the refusals of bad input that leave nothing behind.
 * The engine-backed behaviour is in test/e2e/drift.test.ts and test/e2e/reconcile.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer } from '../../test/helpers/cli.js';
import { removeTestdirs, snapshotTree, testdir } from '../../test/helpers/testdir.js';

let dir: string;
const at = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];

beforeAll(() => {
  dir = testdir('examples/quickstart');
});
afterAll(() => removeTestdirs());

describe('drift and reconcile without an engine', () => {
  it('drift of a stack never applied names its components as not deployed, exit 4, and writes nothing', async () => {
    const before = snapshotTree(dir);
    const r = await deployer(at('drift'));
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(
      /web\/api\s+configuration\s+-.*in the configuration, not deployed \(new component\): `deployer apply` creates it/,
    );
    expect(r.stdout).toMatch(/Drift: 2 finding\(s\) \(1 critical\) in 2 component\(s\)\./);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('reconcile refuses a bad interval, concurrency or webhook before anything runs, exit 2', async () => {
    const before = snapshotTree(dir);
    for (const [flags, message] of [
      [['--every', '10ms'], /--every must be at least 1s \(got 10ms\)/],
      [['--every', 'soon'], /invalid --every "soon": use a duration like 30s, 5m or 1h/],
      [['--concurrency', '0'], /invalid --concurrency "0": use a whole number of 1 or more/],
      [['--alert-webhook', 'mailto:ops@example.com'], /--alert-webhook must be an http\(s\) URL/],
    ] as const) {
      const r = await deployer([...at('reconcile', '--once'), ...flags]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(snapshotTree(dir)).toEqual(before);
  });
});
