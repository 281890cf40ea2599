/**
 * Lead time from commit to deployment, as a team sets it up: `ledger hook install` in the
 * stack's git repository, commits recorded by the real post-commit and post-merge hooks (git
 * runs them; they run deployer), an apply through the real Pulumi engine that ships them, and
 * the lead-time metric measured from each commit's time.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { editFile, freePort, removeTestdirs, testdir } from '../helpers/testdir.js';

let dir: string;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];
const git = (a: string[], env: Record<string, string> = {}) =>
  execa('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', '-c', 'init.defaultBranch=main', ...a], {
    cwd: dir,
    env: { GIT_CONFIG_NOSYSTEM: '1', ...env },
  });
const HOUR_AGO = (): string => new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
interface Pending {
  repo: string;
  changes: Array<{ commit: string; committedAt: string; shippedBy: string | null }>;
}

beforeAll(async () => {
  dir = testdir('examples/quickstart', { '8080': String(await freePort()) });
  await git(['init', '-q']);
  await git(['add', '.']);
  await git(['commit', '-qm', 'the stack, before the hooks']);
});
afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  removeTestdirs();
});

describe('lead time from commit to deployment', () => {
  it('installs the hooks, executable, and again over its own; a hook of someone else is kept without --force', async () => {
    const r = await deployer(['ledger', 'hook', 'install', '-C', dir]);
    expect(r.code, r.stderr).toBe(0);
    const hook = path.join(dir, '.git', 'hooks', 'post-commit');
    expect(r.stdout).toContain(hook);
    expect(statSync(hook).mode & 0o111).not.toBe(0);
    expect(readFileSync(path.join(dir, '.git', 'hooks', 'post-merge'), 'utf8')).toContain("--from-git 'ORIG_HEAD..HEAD'");
    expect((await deployer(['ledger', 'hook', 'install', '-C', dir])).code).toBe(0);

    const other = testdir('examples/quickstart');
    await execa('git', ['init', '-q'], { cwd: other });
    const theirs = path.join(other, '.git', 'hooks', 'post-merge');
    writeFileSync(theirs, '#!/bin/sh\necho theirs\n');
    chmodSync(theirs, 0o755);
    const refused = await deployer(['ledger', 'hook', 'install', '-C', other]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/post-merge exists and is not deployer's: --force replaces it/);
    expect(readFileSync(theirs, 'utf8')).toBe('#!/bin/sh\necho theirs\n');
    expect(existsSync(path.join(other, '.git', 'hooks', 'post-commit'))).toBe(false);
    expect((await deployer(['ledger', 'hook', 'install', '--force', '-C', other])).code).toBe(0);
    expect(readFileSync(theirs, 'utf8')).toContain('deployer-ledger-hook');
  });

  it('a commit and a merge are recorded by the hooks with their commit times', async () => {
    const committed = HOUR_AGO();
    editFile(path.join(dir, 'services/web/api.yaml'), 'GREETING: hello from dev', 'GREETING: hello, changed');
    await git(['commit', '-qam', 'a change'], { GIT_COMMITTER_DATE: committed });
    const head = (await git(['rev-parse', 'HEAD'])).stdout;

    // A commit on a branch made without hooks, then merged: the post-merge hook records it.
    await git(['checkout', '-qb', 'feature']);
    writeFileSync(path.join(dir, 'NOTES.md'), 'notes\n');
    await git(['add', 'NOTES.md']);
    // A minute later: pending changes are listed oldest first.
    const later = new Date(Date.parse(committed) + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await git(['-c', 'core.hooksPath=/dev/null', 'commit', '-qm', 'notes'], { GIT_COMMITTER_DATE: later });
    const merged = (await git(['rev-parse', 'HEAD'])).stdout;
    await git(['checkout', '-q', 'main']);
    await git(['merge', '-q', '--ff-only', 'feature']);

    const { json } = await deployerJson<Pending>(['ledger', 'list-changes', '-C', dir]);
    expect(json.repo).toBe((await git(['rev-parse', '--show-toplevel'])).stdout);
    expect(json.changes).toEqual([
      expect.objectContaining({ commit: head, committedAt: new Date(committed).toISOString(), shippedBy: null }),
      expect.objectContaining({ commit: merged, committedAt: new Date(later).toISOString(), shippedBy: null }),
    ]);
  });

  it('the apply ships them: its deployment carries them, and lead time runs from each commit', async () => {
    const pending = (await deployerJson<Pending>(['ledger', 'list-changes', '-C', dir])).json.changes;
    const applied = await deployer(args('apply', '--yes'));
    expect(applied.code, applied.stderr).toBe(0);
    const { json } = await deployerJson<{ deployments: Array<{ status: string; completed: string; metadata: { changes: unknown } }> }>([
      'ledger',
      'list-deployments',
      '-C',
      dir,
    ]);
    const [deployment] = json.deployments;
    expect(deployment!.status).toBe('success');
    expect(deployment!.metadata.changes).toEqual(pending.map((c) => ({ commit: c.commit, committedAt: c.committedAt })));
    expect((await deployerJson<Pending>(['ledger', 'list-changes', '-C', dir])).json.changes).toEqual([]);

    const metric = await deployerJson<{ results: Array<{ value: number; counted: number; notes: string[] }> }>(
      args('ledger', 'show-metrics', '--metric', 'lead-time'),
    );
    const [lead] = metric.json.results;
    expect(lead).toMatchObject({ counted: 2, notes: [] });
    const expected = pending.map((c) => (Date.parse(deployment!.completed) - Date.parse(c.committedAt)) / 1000);
    expect(lead!.value).toBe((expected[0]! + expected[1]!) / 2);
  });
});
