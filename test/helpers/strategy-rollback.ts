/**
 * The automatic rollback of one deployment strategy through the real engine, with a client
 * sending requests the whole time: a v2 failing its health check, then a v2 that crashes at
 * start. A rollback is not a new rollout: the previous version's processes that still serve are
 * kept (the same pids answer before and after), no request fails because of the rollback, and
 * the ledger's rows line up (the rollback's from and to are versions of deployment rows). One
 * test file per strategy calls this, so that the strategies run in parallel.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from './cli.js';
import { steadyTraffic, getJson, type TrafficResult } from './http.js';
import { editFile, freePort, removeTestdirs, repoRoot, testdir } from './testdir.js';

interface ApplyJson {
  summary: {
    components: Array<{ id: string; result: string; reason?: string }>;
    rollback?: { ok: boolean; components: Array<{ id: string; result: string }> };
  };
}
interface Deployment {
  id: string;
  version: string;
  status: string;
  parentId: string;
}
interface Rollback {
  fromVersion: string;
  toVersion: string;
  reason: string;
}

/** The pids that answer, from enough requests to see every replica behind the proxy. */
async function servingPids(port: number): Promise<number[]> {
  const pids = new Set<number>();
  for (let i = 0; i < 15; i++) pids.add((await getJson<{ pid: number }>(port)).pid);
  return [...pids].sort();
}

/** When the run's rollback started, from its JSON events on stderr. */
function rollbackStartedAt(stderr: string): number {
  const line = stderr.split('\n').find((l) => l.includes('"type":"rollback-start"'));
  if (!line) throw new Error(`no rollback started:\n${stderr}`);
  return Date.parse((JSON.parse(line) as { time: string }).time);
}

export function strategyRollbackSuite(type: string, strategy: string): void {
  let dir: string;
  let port: number;
  let api: string;
  const env = (): Record<string, string> => ({ DEPLOY_LEDGER_DB: path.join(dir, 'ledger.db') });
  const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'test'];

  beforeAll(async () => {
    port = await freePort();
    dir = testdir('strategies', {
      PORT_API: String(port),
      ECHO_SERVER: path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs'),
      STRATEGY: strategy,
    });
    api = path.join(dir, 'services/web/api.yaml');
    const first = await deployer(args('apply', '--yes'), env());
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    await deployer(args('destroy', '--yes'), env());
    removeTestdirs();
  });

  /** The newest deployment row, the success before it, and the newest rollback: from and to are their versions. */
  async function expectLedgerLinesUp(): Promise<void> {
    const deployments = (await deployerJson<{ deployments: Deployment[] }>(args('ledger', 'list-deployments'), env())).json.deployments;
    const rollbacks = (await deployerJson<{ rollbacks: Rollback[] }>(args('ledger', 'list-rollbacks'), env())).json.rollbacks;
    const [attempt, ...older] = deployments;
    const good = older.find((d) => d.status === 'success')!;
    expect(attempt).toMatchObject({ status: 'rolled-back' });
    expect(rollbacks[0]).toMatchObject({
      fromVersion: attempt!.version,
      toVersion: good.version,
      reason: expect.stringMatching(/^automatic: web\/api failed/),
    });
    expect(rollbacks[0]!.fromVersion).not.toBe(rollbacks[0]!.toVersion);
  }

  async function failingV2(change: string): Promise<{ run: Awaited<ReturnType<typeof deployerJson<ApplyJson>>>; seen: TrafficResult }> {
    editFile(api, 'VERSION: v1', `VERSION: v2\n    ${change}`);
    const traffic = steadyTraffic(port);
    const run = await deployerJson<ApplyJson>(args('apply', '--yes'), env());
    const seen = await traffic.stop();
    editFile(api, `VERSION: v2\n    ${change}`, 'VERSION: v1');
    expect(run.code).toBe(1);
    expect(run.json.summary.rollback).toMatchObject({ ok: true, components: [{ id: 'web/api', result: 'updated' }] });
    return { run, seen };
  }

  /**
   * The client's view of a failed v2 and its rollback: no failed request at all (big-bang: none
   * from the moment the rollback starts; its own rollout takes the service down, as documented),
   * only v1 ever answers, and the processes that served when the rollback started still serve
   * after it (a failed rollout may itself have replaced some: rolling's maxUnavailable, big-bang).
   */
  async function expectRollbackRestartedNothing(run: { stderr: string }, seen: TrafficResult): Promise<void> {
    const rollbackAt = rollbackStartedAt(run.stderr);
    expect(seen.log.filter((e) => !e.ok && e.at >= rollbackAt)).toEqual([]);
    if (type !== 'big-bang') expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(Object.keys(seen.versions)).toEqual(['v1']);
    const outageEnd = Math.max(0, ...seen.log.filter((e) => !e.ok && e.at < rollbackAt).map((e) => e.at));
    const servingAtRollback = [
      ...new Set(
        seen.log
          .filter((e) => e.ok && e.at > outageEnd && e.at < rollbackAt)
          .slice(-15)
          .map((e) => e.pid),
      ),
    ].sort();
    expect(await servingPids(port)).toEqual(servingAtRollback);
  }

  describe(`rollback of a ${type} deployment`, () => {
    it('a v2 failing its health check: v1 keeps the traffic, the rollback restarts nothing, the ledger lines up', async () => {
      const { run, seen } = await failingV2('HEALTHY: "false"');
      await expectRollbackRestartedNothing(run, seen);
      await expectLedgerLinesUp();
      // The state is v1 again: the next apply of v1 has nothing to do.
      const again = await deployerJson<{ summary: { counts: Record<string, number> } }>(args('apply', '--yes'), env());
      expect(again.json.summary.counts).toMatchObject({ unchanged: 1, updated: 0 });
    });

    it('a v2 that crashes at start: the rollback adds no outage and restarts nothing, the ledger lines up', async () => {
      const { run, seen } = await failingV2('EXIT_AT_START: "1"');
      await expectRollbackRestartedNothing(run, seen);
      await expectLedgerLinesUp();
    });
  });
}
