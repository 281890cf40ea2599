/**
 * The applied quick start of the drift and reconcile tests, and the changes made to it behind
 * deployer's back as someone editing its files would: what the running supervisor serves
 * (desired.json, then SIGHUP), and a bucket's settings on disk.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { files, type Desired, type Status } from '../../src/targets/local/protocol.js';
import { deployer } from './cli.js';
import { freePort, removeTestdirs, testdir } from './testdir.js';

export interface AppliedQuickstart {
  dir: string;
  port: number;
  env: Record<string, string>;
  args: (...a: string[]) => string[];
  apiDir: string;
  bucketDir: string;
}

/** The quick start in a new directory on a free port, applied (its ledger inside it). */
export async function appliedQuickstart(): Promise<AppliedQuickstart> {
  const port = await freePort();
  const dir = testdir('examples/quickstart', { '8080': String(port) });
  const env = { DEPLOY_LEDGER_DB: path.join(dir, 'ledger.db') };
  const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];
  const applied = await deployer(args('apply', '--yes'), env);
  expect(applied.code, applied.stderr).toBe(0);
  const local = path.join(dir, '.deployer', 'local', 'quickstart', 'dev');
  return {
    dir,
    port,
    env,
    args,
    apiDir: path.join(local, 'services', 'web', 'api'),
    bucketDir: path.join(local, 'buckets', 'quickstart-dev-web-assets'),
  };
}

/**
 * An applied quick start for the tests of one file: applied before them, destroyed (and its
 * directory removed) after them. `use` is handed it once it is applied.
 */
export function useAppliedQuickstart(use: (qs: AppliedQuickstart) => void): void {
  let qs: AppliedQuickstart | undefined;
  beforeAll(async () => {
    qs = await appliedQuickstart();
    use(qs);
  });
  afterAll(async () => {
    if (qs) await deployer(qs.args('destroy', '--yes'), qs.env);
    removeTestdirs();
  });
}

/** The supervisor's status now. */
export const supervisorStatus = (runtimeDir: string): Status => JSON.parse(readFileSync(files(runtimeDir).status, 'utf8')) as Status;

/** Changes what the running supervisor serves and waits until it serves it. */
export async function changeInSupervisor(runtimeDir: string, change: (spec: Desired['spec']) => void): Promise<void> {
  const f = files(runtimeDir);
  const desired = JSON.parse(readFileSync(f.desired, 'utf8')) as Desired;
  change(desired.spec);
  const generation = desired.generation + 1;
  writeFileSync(f.desired, JSON.stringify({ generation, spec: desired.spec }));
  process.kill(supervisorStatus(runtimeDir).supervisorPid, 'SIGHUP');
  await expect.poll(() => supervisorStatus(runtimeDir).servingGeneration, { timeout: 60_000 }).toBe(generation);
}

/** Changes the settings a bucket keeps on disk. */
export function changeBucketSettings(bucketDir: string, change: Record<string, unknown>): void {
  const file = `${bucketDir}.settings.json`;
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...change }));
}
