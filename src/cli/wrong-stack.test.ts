/**
 * `--stack <name>` names the stack the user means. Every command that reads the directory
 * refuses one holding another stack (exit 2) before it locks, plans or writes anything; the
 * state and lock commands given `--stack` and `-e` act on the records of the stack named, and
 * never on the directory's own.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer } from '../../test/helpers/cli.js';
import { removeTestdirs, snapshotTree, testdir } from '../../test/helpers/testdir.js';
import { emptyState, openStateStore } from '../state/index.js';

let dir: string;

beforeAll(async () => {
  dir = testdir('examples/quickstart');
  // The directory's stack (quickstart) looks deployed: a state with a component in it.
  const store = openStateStore('file://.deployer', dir);
  await store.write({
    ...emptyState('quickstart', 'dev'),
    components: {
      'web/assets': {
        kind: 'S3',
        target: 'local',
        specHash: 'h',
        inputsHash: 'i',
        spec: {},
        outputs: {},
        dependsOn: [],
        pulumiStack: 'quickstart.dev.web.assets',
        status: 'deployed',
        deploymentId: 'run-1',
        updatedAt: '2026-01-01T00:00:00.000Z',
      },
    },
  });
});
afterAll(() => removeTestdirs());

const COMMANDS: string[][] = [
  ['validate'],
  ['plan'],
  ['graph'],
  ['apply', '--yes'],
  ['destroy', '--yes'],
  ['rollback', '--yes'],
  ['rollback', '--to', '1', '--yes'],
  ['restart'],
  // Without -e, the state and lock commands read the directory to learn the stack and environment.
  ['lock', 'status'],
  ['state', 'list'],
];

describe("--stack that is not the directory's stack", () => {
  it.each(COMMANDS)('%s %s ... refuses, exit 2, and touches nothing', async (...command) => {
    const before = snapshotTree(path.join(dir, '.deployer'));
    const r = await deployer([...command, '-C', dir, '--stack', 'production']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--stack production does not match the stack in this directory \("quickstart"\): nothing was done/);
    expect(snapshotTree(path.join(dir, '.deployer'))).toEqual(before);
  });

  it("the same commands with the directory's own stack name go ahead", async () => {
    const r = await deployer(['plan', '-C', dir, '-e', 'dev', '--stack', 'quickstart']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Stack quickstart, environment dev/);
  });

  it("state and lock commands given --stack and -e act on the stack named, not on the directory's", async () => {
    const before = snapshotTree(path.join(dir, '.deployer'));
    const list = await deployer(['state', 'list', '-C', dir, '--stack', 'production', '-e', 'dev']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/No components recorded/);
    const rm = await deployer(['state', 'rm', 'web/assets', '-C', dir, '--stack', 'production', '-e', 'dev']);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toMatch(/no state is recorded for stack production, environment dev/);
    expect(snapshotTree(path.join(dir, '.deployer'))).toEqual(before);
  });

  it('a state command acting on another stack by --stack and -e changes that stack and says how to plan it', async () => {
    const store = openStateStore('file://.deployer', dir);
    const v1 = await store.write(emptyState('production', 'dev'));
    await store.write({ ...v1, components: {} });
    const r = await deployer(['state', 'reset', '--to', '1', '-C', dir, '--stack', 'production', '-e', 'dev']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /Restored the state of serial 1 as serial 3\. Nothing was deployed or destroyed\. Run `deployer plan` in the stack's directory/,
    );
    expect((await store.read('quickstart', 'dev'))?.serial).toBe(1);
  });
});
