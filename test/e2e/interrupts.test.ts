/**
 * Runs that stop in the middle, on the default local state and file lock: kill -9 of the CLI
 * (the next run takes over at once, stops the processes the dead run left, closes its ledger
 * records, clears what Pulumi left pending, converges), Ctrl-C once (the running component
 * finishes and is recorded, nothing new starts), Ctrl-C twice (the running Pulumi operation is
 * cancelled). Ctrl-C is sent as a terminal sends it: to the whole process group. After each, a
 * rerun converges.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_MARKER } from '../../src/engine/session.js';
import { processesWithEnv } from '../../src/util/process.js';
import { deployer, deployerJson, spawnDeployer } from '../helpers/cli.js';
import { getJson } from '../helpers/http.js';
import { editFile, freePort, removeTestdirs, repoRoot, testdir } from '../helpers/testdir.js';

interface ApplyJson {
  ok: boolean;
  summary: { counts: Record<string, number>; components: Array<{ id: string; result: string; engine: boolean }> };
}

let dir: string;
const ports: Record<string, number> = {};
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'test'];
const results = (json: ApplyJson): Record<string, string> => Object.fromEntries(json.summary.components.map((c) => [c.id, c.result]));

beforeAll(async () => {
  ports['API'] = await freePort();
  ports['WORKER'] = await freePort();
  dir = testdir('chain', {
    PORT_API: String(ports['API']),
    PORT_WORKER: String(ports['WORKER']),
    ECHO_SERVER: path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs'),
  });
});

afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  removeTestdirs();
});

describe('interrupted runs', () => {
  it('kill -9 of the CLI mid-apply: the rerun takes over the lock at once, stops what the dead run left, closes its ledger records, converges', async () => {
    const first = spawnDeployer(args('apply', '--yes', '--concurrency', '1'));
    await first.waitFor('create pulumi-nodejs:dynamic/local:MicroService api', 120_000);
    const dead = (await deployerJson<{ locks: Array<{ metadata: { deployment_id: string } }> }>(args('lock', 'status'))).json.locks[0]!
      .metadata.deployment_id;
    first.child.kill('SIGKILL');
    await first.exit;
    // What the engine of the dead run started lives on without it (its pulumi, the dynamic provider).
    expect(processesWithEnv(RUN_MARKER, dead).length).toBeGreaterThan(0);

    const { code, json, stderr } = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/waiting for the lock/);
    expect(stderr).toMatch(/Took over the lock of \S+ \(lock id [0-9a-f-]{36}, apply since .*\): that run died; resuming where it stopped/);
    expect(stderr).toMatch(new RegExp(`stopped \\d+ process\\(es\\) the dead run ${dead.slice(0, 8)} left running`));
    expect(processesWithEnv(RUN_MARKER, dead)).toEqual([]);
    const ledger = await deployerJson<{ deployments: Array<{ parentId: string; status: string; metadata: { reason?: string } }> }>([
      'ledger',
      'list-deployments',
      '-C',
      dir,
    ]);
    const ofDead = ledger.json.deployments.filter((d) => d.parentId === dead);
    expect(ofDead.length).toBeGreaterThan(0);
    for (const d of ofDead)
      expect(d).toMatchObject({ status: 'failed', metadata: { reason: expect.stringMatching(/the run died before it finished/) } });
    expect(results(json)['data/files']).toBe('unchanged');
    expect(await getJson(ports['API']!)).toMatchObject({ version: 'api-1' });
    expect(await getJson(ports['WORKER']!)).toMatchObject({ version: 'worker-1' });
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'))).json.locks).toEqual([]);
  });

  it('Ctrl-C once: the running component finishes and is recorded, the next is not started', async () => {
    editFile(path.join(dir, 'services/app/api.yaml'), 'VERSION: api-1', 'VERSION: api-2');
    editFile(path.join(dir, 'services/app/worker.yaml'), 'VERSION: worker-1', 'VERSION: worker-2');
    const run = spawnDeployer(args('apply', '--yes', '--json'), {}, true);
    await run.waitFor('"type":"component-start","id":"app/api"', 120_000);
    // As a terminal's Ctrl-C: to every process of the group, which Pulumi is not part of.
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/Interrupted: finishing the components that are running, starting no more/);
    // The JSON events on stderr say how each ended.
    const done = run
      .output()
      .split('\n')
      .filter((l) => l.includes('"type":"component-done"'))
      .map((l) => (JSON.parse(l) as { report: { id: string; result: string } }).report);
    expect(Object.fromEntries(done.map((r) => [r.id, r.result]))).toMatchObject({ 'app/api': 'updated', 'app/worker': 'cancelled' });
    expect(await getJson(ports['API']!)).toMatchObject({ version: 'api-2' });
    expect(await getJson(ports['WORKER']!)).toMatchObject({ version: 'worker-1' });

    const rerun = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(results(rerun.json)).toMatchObject({ 'app/api': 'unchanged', 'app/worker': 'updated' });
  });

  it('Ctrl-C twice: the running Pulumi operation is cancelled; a rerun converges', async () => {
    editFile(path.join(dir, 'services/app/api.yaml'), 'VERSION: api-2', 'VERSION: api-3');
    const run = spawnDeployer(args('apply', '--yes'), {}, true);
    await run.waitFor('update pulumi-nodejs:dynamic/local:MicroService api', 120_000);
    process.kill(-run.child.pid!, 'SIGINT');
    await run.waitFor('Press Ctrl-C again to cancel them');
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/app\/api +FAILED/);
    expect(run.output()).not.toMatch(/Rolling back/); // an interrupted run is not rolled back

    const rerun = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await getJson(ports['API']!)).toMatchObject({ version: 'api-3' });
  });

  it('SIGTERM (a CI job cancelled): the run cancels its Pulumi operation itself and leaves nothing running', async () => {
    editFile(path.join(dir, 'services/app/api.yaml'), 'VERSION: api-3', 'VERSION: api-4');
    const run = spawnDeployer(args('apply', '--yes'), {}, true);
    await run.waitFor('update pulumi-nodejs:dynamic/local:MicroService api', 120_000);
    const runId = (await deployerJson<{ locks: Array<{ metadata: { deployment_id: string } }> }>(args('lock', 'status'))).json.locks[0]!
      .metadata.deployment_id;
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/Terminated: cancelling the running components, starting no more/);
    expect(processesWithEnv(RUN_MARKER, runId)).toEqual([]);
    expect((await deployerJson<{ locks: unknown[] }>(args('lock', 'status'))).json.locks).toEqual([]);
    const rerun = await deployerJson<ApplyJson>(args('apply', '--yes'));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await getJson(ports['API']!)).toMatchObject({ version: 'api-4' });
  });
});
