/**
 * The cross-region switch barrier with real local supervisors, one per region, each serving
 * real processes: a region ready to switch waits (its old version serving) until the other is
 * ready, then both switch; a failure elsewhere calls the waiting switch off with no request
 * lost; a rollout after the answer is not held; no answer within the bound gives the switch up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getJson, steadyTraffic } from '../../test/helpers/http.js';
import { freePort, repoRoot } from '../../test/helpers/testdir.js';
import type { RunEvent } from '../executor/events.js';
import type { Plan } from '../model/plan.js';
import { LOCAL_HEALTH_DEFAULTS } from '../targets/local/index.js';
import { files, readJson, writeJson, type Desired, type ProcessSpec, type Status } from '../targets/local/protocol.js';
import { decideStrategy } from '../targets/local/strategy.js';
import { Supervisor } from '../targets/local/supervisor.js';
import { awaitSwitch, barrierFromEnv, type SwitchParticipant } from '../targets/switch-barrier.js';
import { SwitchBarrier } from './switch-barrier.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-barrier-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ID = 'web/api';

function spec(port: number, version: string): ProcessSpec {
  return {
    command: [process.execPath, path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs')],
    cwd: repoRoot,
    env: { VERSION: version },
    port,
    healthCheck: { ...LOCAL_HEALTH_DEFAULTS, interval: 0.2 },
    startTimeout: 10,
    replicas: 1,
    strategy: decideStrategy({ type: 'blue-green' }, 1),
  };
}

const statusOf = async (dir: string): Promise<Status | undefined> => readJson<Status>(files(dir).status);
const versionAt = async (port: number): Promise<string> => (await getJson<{ version: string }>(port)).version;
const planEvent = (action: 'update' | 'no-op'): RunEvent => ({ type: 'plan', plan: { actions: [{ id: ID, action }] } as unknown as Plan });

async function until(what: () => Promise<boolean>): Promise<void> {
  while (!(await what())) await new Promise((r) => setTimeout(r, 20));
}

/** A region's supervisor serving v1; `roll` hands it a generation held at `barrier`. */
async function region(name: string, test: string) {
  const dir = path.join(root, test, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const supervisor = new Supervisor(dir);
  await writeJson(files(dir).desired, { generation: 1, spec: spec(port, 'v1') } satisfies Desired);
  await supervisor.reload();
  let generation = 1;
  return {
    dir,
    port,
    supervisor,
    roll(version: string, barrier: SwitchBarrier): Promise<void> {
      const ref = barrierFromEnv(barrier.engineEnv(name))!;
      const participant: SwitchParticipant = { ...ref, component: ID };
      generation += 1;
      return writeJson(files(dir).desired, { generation, spec: spec(port, version), barrier: participant } satisfies Desired).then(() =>
        supervisor.reload(),
      );
    },
    waiting: async () => (await statusOf(dir))?.phase?.includes('waiting for every region') === true,
  };
}

describe('the cross-region switch barrier', () => {
  it('holds a region ready to switch until the other is ready, then both switch', async () => {
    const barrier = new SwitchBarrier({ dir: path.join(root, 'held', 'barrier'), regions: ['eu', 'us'], timeoutMs: 60_000, pollMs: 10 });
    const [eu, us] = await Promise.all([region('eu', 'held'), region('us', 'held')]);
    barrier.start();
    const noop = (): void => undefined;
    barrier.listener('eu', noop)(planEvent('update'));
    const euRolled = eu.roll('v2', barrier);
    await until(eu.waiting);
    // Verified and waiting: the old version still takes the traffic.
    expect(await versionAt(eu.port)).toBe('v1');
    barrier.listener('us', noop)(planEvent('update'));
    await Promise.all([euRolled, us.roll('v2', barrier)]);
    expect([await versionAt(eu.port), await versionAt(us.port)]).toEqual(['v2', 'v2']);
    const [euRollout, usRollout] = await Promise.all(
      [eu, us].map((r) => readJson<{ switchedAt: string; verifiedAt: string }>(files(r.dir).rollout)),
    );
    // eu switched only once us had its new version verified.
    expect(Date.parse(euRollout!.switchedAt)).toBeGreaterThanOrEqual(Date.parse(usRollout!.verifiedAt));
    await barrier.close();
    await Promise.all([eu.supervisor.stopAll(), us.supervisor.stopAll()]);
  });

  it('a failure in another region calls the waiting switch off: the old version keeps every request', async () => {
    const barrier = new SwitchBarrier({ dir: path.join(root, 'off', 'barrier'), regions: ['eu', 'us'], timeoutMs: 60_000, pollMs: 10 });
    const eu = await region('eu', 'off');
    barrier.start();
    barrier.listener('eu', () => undefined)(planEvent('update'));
    const traffic = steadyTraffic(eu.port);
    const rolled = eu.roll('v2', barrier);
    await until(eu.waiting);
    barrier.listener('us', () => undefined)(planEvent('update'));
    barrier.listener(
      'us',
      () => undefined,
    )({
      type: 'component-done',
      report: { id: ID, action: 'update', result: 'failed', engine: true, reason: 'health check failed' },
    });
    await rolled;
    const after = traffic.snapshot().ok;
    await until(async () => traffic.snapshot().ok > after + 10);
    const seen = await traffic.stop();
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(seen.versions['v2']).toBeUndefined();
    expect(await statusOf(eu.dir)).toMatchObject({ state: 'failed', servingGeneration: 1 });
    expect((await statusOf(eu.dir))!.error).toMatch(/called off in every region: region us: web\/api failed \(health check failed\)/);
    // A later rollout of the component in that region (its rollback) is not held.
    await eu.roll('v3', barrier);
    expect(await versionAt(eu.port)).toBe('v3');
    await barrier.close();
    await eu.supervisor.stopAll();
  });

  it('a region whose plan leaves the component alone is not waited for', async () => {
    const barrier = new SwitchBarrier({ dir: path.join(root, 'alone', 'barrier'), regions: ['eu', 'us'], timeoutMs: 60_000, pollMs: 10 });
    const eu = await region('eu', 'alone');
    barrier.start();
    barrier.listener('eu', () => undefined)(planEvent('update'));
    barrier.listener('us', () => undefined)(planEvent('no-op'));
    await eu.roll('v2', barrier);
    expect(await versionAt(eu.port)).toBe('v2');
    await barrier.close();
    await eu.supervisor.stopAll();
  });

  it('with no answer within the bound, or once the run is gone, the switch is given up', async () => {
    const dir = path.join(root, 'bound');
    const participant = { dir, region: 'eu', component: ID, coordinatorPid: process.pid, timeoutMs: 200 };
    await expect(awaitSwitch(participant, 2)).rejects.toThrow(/not ready to switch within 0 s: the switch was given up/);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await expect(awaitSwitch({ ...participant, coordinatorPid: Number(gone.stdout), timeoutMs: 60_000 }, 2)).rejects.toThrow(
      /the run coordinating the switch across regions ended before it answered/,
    );
  });

  it('a region that gave its switch up calls the others off; one planned unchanged is answered; closing releases a waiter', async () => {
    const dir = path.join(root, 'gave-up');
    const barrier = new SwitchBarrier({ dir, regions: ['eu', 'us'], timeoutMs: 60_000, pollMs: 10 });
    barrier.start();
    const ref = (region: string, timeoutMs = 60_000): SwitchParticipant => ({
      ...barrierFromEnv(barrier.engineEnv(region))!,
      component: ID,
      timeoutMs,
    });
    barrier.listener('eu', () => undefined)(planEvent('update'));
    barrier.listener('us', () => undefined)(planEvent('update'));
    // eu waits for us past its bound, gives up, and says so: us may not switch then.
    await expect(awaitSwitch(ref('eu', 100), 2)).rejects.toThrow(/the switch was given up/);
    await expect(awaitSwitch(ref('us'), 2)).rejects.toThrow(/called off in every region: region eu gave its switch of web_api up/);
    await barrier.close();

    // A component both plans leave unchanged, deployed anyway (its inputs changed with a dependency's outputs).
    const other = new SwitchBarrier({ dir: path.join(root, 'unplanned'), regions: ['eu', 'us'], timeoutMs: 60_000, pollMs: 10 });
    other.start();
    const refOf = (region: string): SwitchParticipant => ({ ...barrierFromEnv(other.engineEnv(region))!, component: ID });
    other.listener('eu', () => undefined)(planEvent('no-op'));
    other.listener('us', () => undefined)(planEvent('no-op'));
    await awaitSwitch(refOf('eu'), 2);
    // Closed while a participant waits (its run ended): it gives its switch up at once.
    const third = new SwitchBarrier({ dir: path.join(root, 'closed'), regions: ['eu', 'us'], timeoutMs: 60_000, pollMs: 10 });
    third.start();
    third.listener('eu', () => undefined)(planEvent('update'));
    const waiting = awaitSwitch({ ...barrierFromEnv(third.engineEnv('eu'))!, component: ID }, 2);
    await until(async () => existsSync(path.join(root, 'closed', 'web_api', 'eu.ready.json')));
    await third.close();
    await expect(waiting).rejects.toThrow(/closed its barrier before it answered/);
    await other.close();
  });
});
