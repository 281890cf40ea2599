/**
 * A machine that refuses, through the real engine: the disk under the state fills up in the
 * middle of an apply, the disk under the ledger is full, the state directory is read-only. Each
 * is reported as the machine's fault, naming the path (exit 1, never "a bug in deployer"),
 * leaves state, locks and ledger as they were, and a rerun converges once the machine is fixed.
 * The disks are a small tmpfs mounted by the test (CI runs as root); where this process may not
 * mount, the same faults are injected at the same boundaries (the file writes, SQLite) instead.
 */
import { readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SqliteLedger } from '../../src/ledger/sqlite.js';
import { FileBlobs } from '../../src/state/file.js';
import { deployer, deployerJson } from '../helpers/cli.js';
import { editFile, removeTestdirs, repoRoot, snapshotTree, testdir, walk } from '../helpers/testdir.js';
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.js';

interface ApplyJson {
  ok: boolean;
  summary: {
    counts: Record<string, number>;
    components: Array<{ id: string; result: string; reason?: string }>;
    rollback?: { ok: boolean };
  };
}

let dir: string;
let disk: SmallDisk | undefined;
let stateDir: string;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev', '--state-url', pathToFileURL(stateDir).href];

/** An error as the system gives it (what a full disk or a read-only mount makes a write throw). */
function systemError(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${code === 'ENOSPC' ? 'no space left on device' : 'read-only file system'}, open '${file}'`), {
    code,
    path: file,
    errno: -28,
    syscall: 'open',
  });
}

beforeAll(() => {
  dir = testdir('buckets');
  disk = mountSmallDisk(8192);
  stateDir = disk ? path.join(disk.dir, 'state') : path.join(dir, 'state');
});
afterEach(() => {
  vi.restoreAllMocks();
  disk?.free();
});
afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  disk?.remove();
  removeTestdirs();
});

const checkpoint = (component: string): string =>
  path.join(stateDir, 'stacks/buckets/dev/pulumi/.pulumi/stacks/deployer', `buckets.dev.store.${component}.json`);

describe('a machine that refuses', () => {
  it('a disk that fills up mid-apply: reported as the machine, and the run converges once space is back', async () => {
    expect((await deployer(args('apply', '--yes'))).code).toBe(0);
    const buckets = path.join(dir, 'services/store/buckets.yaml');
    // The disk fills up in the middle of the run: by a pre-hook of the component, once the run has
    // taken its lock and recorded its start, just before the component's Pulumi operation.
    const fill = disk
      ? `\n  hooks:\n    pre:\n      - name: fill\n        command: [node, ${path.join(repoRoot, 'test/helpers/fill-disk.mjs')}, ${disk.dir}]`
      : '';
    editFile(buckets, 'name: images\nspec:\n  versioning: false', `name: images\nspec:\n  versioning: true${fill}`);
    if (!disk) {
      // What a full disk does to Pulumi's own write (an empty checkpoint), and to deployer's writes.
      truncateSync(checkpoint('images'), 0);
      vi.spyOn(FileBlobs.prototype, 'put').mockImplementation(async (key) => {
        throw systemError('ENOSPC', key);
      });
    }
    const full = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(full.code).toBe(1);
    expect(full.stderr).not.toMatch(/This is a bug in deployer|internal error/);
    const images = full.json.summary?.components.find((c) => c.id === 'store/images');
    expect(`${images?.reason ?? ''}\n${full.stderr}`).toMatch(/no space (is )?left on (the )?device at \S*stacks\/buckets\/dev/);
    // The summary never claims a failed rollback returned what it did not.
    const summary = full.stderr.split('\n').find((l) => l.includes('"type":"summary"'));
    expect(summary).toBeDefined();
    expect((JSON.parse(summary!) as { message: string }).message).not.toMatch(/The rollback failed[^\n]*: [1-9]\d* of 1 component/);

    if (disk) {
      disk.free();
      editFile(buckets, fill, '');
    } else vi.restoreAllMocks();
    // Had the disk filled while Pulumi wrote the checkpoint, it would be empty now: it is put back.
    truncateSync(checkpoint('images'), 0);
    const after = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toMatch(/the checkpoint of buckets\.dev\.store\.images did not parse .*: restored Pulumi's copy/);
    expect(walk(stateDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(after.json.summary.components.find((c) => c.id === 'store/images')?.result).toBe('updated');
    expect(JSON.parse(readFileSync(checkpoint('images'), 'utf8'))).toBeTruthy();
    const again = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(again.json.summary.counts).toMatchObject({ unchanged: 2, failed: 0 });
  });

  it('a full disk under the ledger: the machine is named, exit 1, state, locks and ledger untouched', async () => {
    const buckets = path.join(dir, 'services/store/buckets.yaml');
    const ledger = disk ? path.join(disk.dir, 'ledger.db') : path.join(dir, 'ledger.db');
    const rows = async (): Promise<unknown> =>
      (await deployerJson<{ deployments: unknown[] }>(['ledger', 'list-deployments', '-C', dir, '--ledger', ledger])).json.deployments;
    // A ledger with a deployment in it, then a full disk under it for the next one.
    editFile(buckets, 'name: logs\nspec:\n  versioning: false', 'name: logs\nspec:\n  versioning: true');
    expect((await deployer([...args('apply', '--yes'), '--ledger', ledger])).code).toBe(0);
    const recorded = await rows();
    editFile(buckets, 'name: logs\nspec:\n  versioning: true', 'name: logs\nspec:\n  versioning: false');
    if (disk) disk.fill();
    else {
      vi.spyOn(SqliteLedger.prototype as unknown as { writeDeployment: () => void }, 'writeDeployment').mockImplementation(() => {
        throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      });
    }
    const before = snapshotTree(stateDir);
    const r = await deployer([...args('apply', '--yes'), '--ledger', ledger]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`no space is left on the device at ${ledger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\((SQLITE_FULL|ENOSPC)\\)`),
    );
    expect(r.stderr).toMatch(/This is the machine, not a bug in deployer/);
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(snapshotTree(stateDir)).toEqual(before);
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'))).json.locks).toEqual([]);
    disk?.free();
    vi.restoreAllMocks();
    expect(await rows()).toEqual(recorded);
  });

  it('a read-only state directory: the machine is named, exit 1, nothing changed', async () => {
    // Injected, the fault reaches deployer's writes only: Pulumi's own (a Go process) still land.
    const deployers = (tree: Record<string, string>): Record<string, string> =>
      disk ? tree : Object.fromEntries(Object.entries(tree).filter(([f]) => !f.includes(`${path.sep}pulumi${path.sep}`)));
    const before = deployers(snapshotTree(stateDir));
    if (disk) disk.readOnly(true);
    else {
      vi.spyOn(FileBlobs.prototype, 'put').mockImplementation(async (key) => {
        throw systemError('EROFS', key);
      });
    }
    try {
      const r = await deployer(args('apply', '--yes'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the file system is read-only at .* \(EROFS\)/);
      expect(r.stderr).not.toMatch(/internal error/);
    } finally {
      if (disk) disk.readOnly(false);
    }
    expect(deployers(snapshotTree(stateDir))).toEqual(before);
    expect(walk(stateDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'))).json.locks).toEqual([]);
  });
});
