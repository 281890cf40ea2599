/**
 * Applying an aws stack through the real Pulumi CLI (issue 16): the translation runs in the real
 * engine, which needs Pulumi's AWS provider plugin. On a machine without it (every machine here:
 * its Go module is not served, and the test's PULUMI_HOME is empty), the run is refused before
 * it takes its lock, naming the command that installs it, and nothing is written: no state, no
 * lock, no ledger record, no Pulumi stack. What a user with credentials and the plugin gets is
 * in docs/aws-target.md.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployer } from '../helpers/cli.js';
import { removeTestdirs, testdir } from '../helpers/testdir.js';

const homes: string[] = [];
afterAll(() => {
  removeTestdirs();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe('apply on the aws target', () => {
  it('is refused without the AWS provider plugin, before anything is locked or written', async () => {
    const dir = testdir('aws-basic');
    const home = mkdtempSync(path.join(os.tmpdir(), 'pulumi-home-'));
    homes.push(home);
    const r = await deployer(['apply', '-C', dir, '-e', 'dev', '--yes'], { PULUMI_HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the aws target needs Pulumi's aws provider plugin v7.48.0, which is not installed");
    expect(r.stderr).toContain('pulumi plugin install resource aws v7.48.0');
    expect(readdirSync(path.join(dir, '.deployer'))).toEqual(['cache']);
    expect(existsSync(path.join(home, 'plugins'))).toBe(false);
  });
});
