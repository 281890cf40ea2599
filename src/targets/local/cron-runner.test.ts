/** The local CronJob's runner in this process: a run's retries, its timeout, and each concurrency rule. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CronRunner } from './cron-runner.js';
import { LOCAL_WORKER_HEALTH_DEFAULTS } from './index.js';
import { files, readJson, writeJson, type CronRun, type CronSpec, type Desired, type Status } from './protocol.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-cron-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A runner for a job running `script` (node -e) under `cron`, its schedule far off (runs are fired by hand). */
async function runner(name: string, script: string, cron: Partial<CronSpec>): Promise<CronRunner> {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const spec = {
    command: [process.execPath, '-e', script],
    cwd: dir,
    env: {},
    healthCheck: LOCAL_WORKER_HEALTH_DEFAULTS,
    startTimeout: 10,
    cron: { schedule: '0 3 1 1 *', timezone: 'UTC', retries: 0, concurrency: 'forbid' as const, suspend: false, ...cron },
  };
  await writeJson(files(dir).desired, { generation: 1, spec } satisfies Desired);
  const r = new CronRunner(dir);
  await r.reload();
  return r;
}

describe('CronRunner', () => {
  it('is scheduled once it has read its spec, and keeps each run with its attempts', async () => {
    const r = await runner('retries', 'process.exit(Number(process.env.CODE ?? 4))', { retries: 2 });
    const status = (await readJson<Status>(files(path.join(root, 'retries')).status))!;
    expect(status).toMatchObject({
      state: 'ready',
      cron: { suspended: false, nextRunAt: expect.stringMatching(/-01-01T03:00:00\.000Z$/) },
    });
    expect(await r.fire('manual', 'run-1')).toMatchObject({ status: 'failed', attempts: 3, detail: 'exit code 4' });
    const runs = (await readJson<CronRun[]>(files(path.join(root, 'retries')).runs))!;
    expect(runs.map((x) => [x.id, x.status, x.attempts])).toEqual([['run-1', 'failed', 3]]);
    await r.stopAll();
  });

  it('stops a run at its timeout', async () => {
    const r = await runner('timeout', 'setTimeout(() => {}, 60_000)', { timeoutMs: 300 });
    expect(await r.fire('manual')).toMatchObject({ status: 'timed-out', attempts: 1, detail: 'still running after 0.3 s: stopped' });
    await r.stopAll();
  });

  it('forbid skips a run due while one runs; replace stops the old one; allow runs both', async () => {
    const long = "setTimeout(() => process.exit(0), Number(process.env.MS ?? 1500)); process.on('SIGTERM', () => process.exit(0))";
    const forbid = await runner('forbid', long, { concurrency: 'forbid' });
    const first = forbid.fire('manual');
    expect(await forbid.fire('manual')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/previous run still runs/) });
    expect(await first).toMatchObject({ status: 'succeeded' });
    await forbid.stopAll();

    const replace = await runner('replace', long, { concurrency: 'replace' });
    const older = replace.fire('manual');
    const newer = await replace.fire('manual');
    expect(await older).toMatchObject({ status: 'failed', detail: 'stopped: a newer run replaced it (concurrency: replace)' });
    expect(newer).toMatchObject({ status: 'succeeded' });
    await replace.stopAll();

    const allow = await runner('allow', long, { concurrency: 'allow' });
    const both = await Promise.all([allow.fire('manual'), allow.fire('manual')]);
    expect(both.map((x) => x.status)).toEqual(['succeeded', 'succeeded']);
    await allow.stopAll();
  });

  it('a schedule it cannot run fails the generation with the reason', async () => {
    const dir = path.join(root, 'bad');
    mkdirSync(dir, { recursive: true });
    const r = await runner('bad', '', { schedule: '61 * * * *' });
    expect(await readJson<Status>(files(dir).status)).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/Invalid value for minute: 61/),
    });
    await r.stopAll();
  });
});
