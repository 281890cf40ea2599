/**
 * Provisioning the Pulumi CLI (a build from Go modules on a new machine: minutes) happens before
 * a run takes its lock or records anything: a machine where it cannot be provisioned gets the
 * reason, and no lock, no ledger entry and no state are left behind.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnDeployer } from '../../test/helpers/cli.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';

const cache = mkdtempSync(path.join(os.tmpdir(), 'deployer-nocli-'));
afterAll(() => {
  rmSync(cache, { recursive: true, force: true });
  removeTestdirs();
});

describe('a machine without the Pulumi CLI', () => {
  it('apply says why before it locks or records anything; a no-op plan never needs the CLI', async () => {
    const dir = testdir('buckets');
    // No pulumi and no Go on PATH, an empty cache: nothing can provide the CLI.
    const env = { PATH: '/usr/bin:/bin', DEPLOYER_CACHE_DIR: cache, PULUMI_PATH: '' };
    const run = spawnDeployer(['apply', '-C', dir, '-e', 'dev', '--yes'], env);
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/the Pulumi CLI is not installed, and Go is not available to build it/);
    expect(run.output()).not.toMatch(/Lock .* acquired/);
    expect(existsSync(path.join(dir, '.deployer', 'locks'))).toBe(false);
    expect(existsSync(path.join(dir, '.deployer', 'ledger.db'))).toBe(false);
    expect(existsSync(path.join(dir, '.deployer', 'stacks'))).toBe(false);

    const plan = spawnDeployer(['plan', '-C', dir, '-e', 'dev'], env);
    expect(await plan.exit).toBe(0);
  });
});
