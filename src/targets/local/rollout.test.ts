/**
 * Each deployment strategy of the local supervisor, with real service processes and a client
 * sending requests the whole time: what it sees is what a user of the service would see.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getJson, steadyTraffic } from '../../../test/helpers/http.js';
import { freePort, repoRoot } from '../../../test/helpers/testdir.js';
import { LOCAL_HEALTH_DEFAULTS } from './index.js';
import { files, readJson, writeJson, type Desired, type ProcessSpec, type Status } from './protocol.js';
import { decideStrategy } from './strategy.js';
import { Supervisor } from './supervisor.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-rollout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type StrategySpec = Parameters<typeof decideStrategy>[0];

function spec(port: number, env: Record<string, string>, replicas: number, strategy: StrategySpec): ProcessSpec {
  return {
    command: [process.execPath, path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs')],
    cwd: repoRoot,
    env,
    port,
    healthCheck: { ...LOCAL_HEALTH_DEFAULTS, interval: 0.2 },
    startTimeout: 10,
    replicas,
    strategy: decideStrategy(strategy, replicas),
  };
}

const status = async (dir: string): Promise<Status> => (await readJson<Status>(files(dir).status))!;

/** A supervisor serving v1 with `replicas` processes; `roll` rolls out a v2 spec while traffic flows. */
async function serving(name: string, replicas: number, strategy: StrategySpec) {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const supervisor = new Supervisor(dir);
  await writeJson(files(dir).desired, { generation: 1, spec: spec(port, { VERSION: 'v1' }, replicas, strategy) } satisfies Desired);
  await supervisor.reload();
  expect(await status(dir)).toMatchObject({ state: 'ready', servingGeneration: 1 });
  expect((await status(dir)).replicas).toHaveLength(replicas);
  return {
    dir,
    port,
    supervisor,
    async roll(env: Record<string, string>, during?: (traffic: ReturnType<typeof steadyTraffic>) => Promise<void>) {
      const traffic = steadyTraffic(port);
      while (traffic.snapshot().ok < 20) await new Promise((r) => setTimeout(r, 10));
      await writeJson(files(dir).desired, { generation: 2, spec: spec(port, env, replicas, strategy) } satisfies Desired);
      const rolled = supervisor.reload();
      if (during) await during(traffic);
      await rolled;
      // Traffic a while longer on whatever serves now.
      const after = traffic.snapshot().ok;
      while (traffic.snapshot().ok < after + 20) await new Promise((r) => setTimeout(r, 10));
      return { traffic: await traffic.stop(), status: await status(dir) };
    },
  };
}

describe('deployment strategies of the local supervisor', () => {
  it('rolling: replaces 3 replicas one at a time with no failed request', async () => {
    const s = await serving('rolling', 3, { type: 'rolling', maxUnavailable: 1, maxSurge: 0 });
    const { traffic, status: st } = await s.roll({ VERSION: 'v2' });
    expect(traffic.failed, traffic.errors.join('\n')).toBe(0);
    expect(st).toMatchObject({ state: 'ready', servingGeneration: 2 });
    expect(st.replicas!.map((r) => r.generation)).toEqual([2, 2, 2]);
    // Old and new answered side by side while it rolled, then only the new.
    expect(traffic.versions['v1']).toBeGreaterThan(0);
    expect(traffic.sequence.slice(-20).every((v) => v === 'v2')).toBe(true);
    await s.supervisor.stopAll();
  });

  it('rolling: a new version that fails its health check is stopped and the old replicas serve again', async () => {
    const s = await serving('rolling-bad', 2, { type: 'rolling', maxUnavailable: 1 });
    const { traffic, status: st } = await s.roll({ VERSION: 'v2', HEALTHY: 'false' });
    expect(traffic.failed, traffic.errors.join('\n')).toBe(0);
    expect(traffic.versions['v2']).toBeUndefined();
    expect(st).toMatchObject({ state: 'failed', servingGeneration: 1 });
    expect(st.error).toMatch(/answered unhealthy 3 times in a row/);
    expect(st.replicas!.map((r) => r.generation)).toEqual([1, 1]);
    await s.supervisor.stopAll();
  });

  it('blue-green: starts the whole green set, then switches all traffic at once', async () => {
    const s = await serving('blue-green', 2, { type: 'blue-green' });
    const { traffic, status: st } = await s.roll({ VERSION: 'v2' });
    expect(traffic.failed, traffic.errors.join('\n')).toBe(0);
    expect(st.replicas!.map((r) => r.generation)).toEqual([2, 2]);
    // One switch: once v2 answers, v1 never does again.
    const firstGreen = traffic.sequence.indexOf('v2');
    expect(firstGreen).toBeGreaterThan(0);
    expect(traffic.sequence.slice(firstGreen).every((v) => v === 'v2')).toBe(true);
    await s.supervisor.stopAll();
  });

  it('canary: sends its share to the new version while it bakes, then promotes it', async () => {
    const s = await serving('canary', 2, { type: 'canary', canary: { percentage: 25, bakeTime: '4s' } });
    let during: Record<string, number> = {};
    let stillBaking = false;
    const { traffic, status: st } = await s.roll({ VERSION: 'v2' }, async (t) => {
      // Once the canary takes traffic, count the next 80 answers (a window of requests, not of time).
      const baking = async (): Promise<boolean> => (await status(s.dir)).phase?.startsWith('canary: 25%') === true;
      while (!(await baking())) await new Promise((r) => setTimeout(r, 20));
      const before = t.snapshot();
      while (t.snapshot().ok < before.ok + 80) await new Promise((r) => setTimeout(r, 10));
      const now = t.snapshot().versions;
      // The window counts only if it ended inside the bake (else promotion answers would be in it).
      stillBaking = await baking();
      during = { v1: (now['v1'] ?? 0) - (before.versions['v1'] ?? 0), v2: (now['v2'] ?? 0) - (before.versions['v2'] ?? 0) };
    });
    expect(stillBaking, 'the window of 80 requests ended after the bake').toBe(true);
    expect(traffic.failed, traffic.errors.join('\n')).toBe(0);
    const share = during['v2']! / (during['v1']! + during['v2']!);
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.35);
    expect(st).toMatchObject({ state: 'ready', servingGeneration: 2 });
    expect(st.replicas!.map((r) => r.generation)).toEqual([2, 2]);
    await s.supervisor.stopAll();
  });

  it('canary: a new version answering errors is aborted and the old one takes all traffic back', async () => {
    // An hour's bake: only the error rate can end this rollout (the test would not finish otherwise).
    const s = await serving('canary-bad', 1, { type: 'canary', canary: { percentage: 50, bakeTime: '1h', maxErrorRate: 5 } });
    const { traffic, status: st } = await s.roll({ VERSION: 'v2', FAIL_EVERY: '2' });
    expect(st).toMatchObject({ state: 'failed', servingGeneration: 1 });
    expect(st.error).toMatch(/canary aborted: error rate \d+(\.\d)?% \(\d+ of \d+ requests\) is above 5%/);
    expect(st.replicas!.map((r) => r.generation)).toEqual([1]);
    expect(traffic.sequence.slice(-20).every((v) => v === 'v1')).toBe(true);
    expect(await getJson(s.port)).toMatchObject({ version: 'v1' });
    await s.supervisor.stopAll();
  });

  it('a rollout not healthy within the deployment timeout fails, and the old version keeps serving', async () => {
    // A version that would take an hour to listen: only the deployment timeout can end this rollout.
    const s = await serving('timeout', 1, { type: 'rolling', timeout: 2 });
    const { traffic, status: st } = await s.roll({ VERSION: 'v2', START_DELAY: '3600000' });
    expect(st).toMatchObject({ state: 'failed', servingGeneration: 1 });
    expect(st.error).toMatch(/did not pass 2 time\(s\) in a row within 2 s \(deployment timeout reached\)/);
    expect(traffic.failed).toBe(0);
    await s.supervisor.stopAll();
  });

  it('big-bang: stops the old version, then starts the new one', async () => {
    const s = await serving('big-bang', 2, { type: 'big-bang' });
    const { traffic, status: st } = await s.roll({ VERSION: 'v2' });
    expect(st.replicas!.map((r) => r.generation)).toEqual([2, 2]);
    // Never both at once: all v1, then (after a gap) all v2.
    const firstNew = traffic.sequence.indexOf('v2');
    expect(traffic.sequence.slice(firstNew).every((v) => v === 'v2')).toBe(true);
    expect(traffic.sequence.slice(0, firstNew).every((v) => v === 'v1')).toBe(true);
    await s.supervisor.stopAll();
  });
});

describe('decideStrategy', () => {
  it('fills the documented defaults and reads percentages of the replica count', () => {
    expect(decideStrategy(undefined, 1)).toEqual({
      type: 'rolling',
      maxUnavailable: 0,
      maxSurge: 1,
      steps: [{ percentage: 10, bakeMs: 30_000 }],
      maxErrorRate: 5,
      terminationWaitMs: 0,
      timeoutMs: 300_000,
    });
    expect(decideStrategy({ type: 'rolling', maxUnavailable: '50%', maxSurge: '0%' }, 4)).toMatchObject({ maxUnavailable: 2, maxSurge: 0 });
    expect(decideStrategy({ type: 'rolling', maxUnavailable: 0, maxSurge: 0 }, 4)).toMatchObject({ maxSurge: 1 });
    expect(
      decideStrategy({ type: 'canary', canary: { steps: [{ percentage: 10, bakeTime: '1m' }, { percentage: 50 }], bakeTime: '10s' } }, 2)
        .steps,
    ).toEqual([
      { percentage: 10, bakeMs: 60_000 },
      { percentage: 50, bakeMs: 10_000 },
    ]);
    expect(decideStrategy({ type: 'blue-green', blueGreen: { terminationWait: '2m' }, timeout: '90s' }, 1)).toMatchObject({
      terminationWaitMs: 120_000,
      timeoutMs: 90_000,
    });
  });
});
