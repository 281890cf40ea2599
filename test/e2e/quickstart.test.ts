/**
 * The quick start through the real Pulumi engine, as a user runs it: apply, a no-op apply,
 * an update under traffic, a concurrent apply, invalid input, destroy. The steps share one
 * applied stack (a Pulumi operation costs seconds), so they run in order.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/util/process.js';
import { deployer, deployerJson, spawnDeployer } from '../helpers/cli.js';
import { get, getJson, steadyTraffic } from '../helpers/http.js';
import { editFile, freePort, removeTestdirs, snapshotTree, testdir } from '../helpers/testdir.js';

interface ApplyJson {
  ok: boolean;
  plan: { summary: Record<string, number> };
  summary: {
    counts: Record<string, number>;
    engineOperations: number;
    components: Array<{ id: string; result: string; engine: boolean; reason?: string }>;
  };
}

let dir: string;
let port: number;
let ledger: string;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];

beforeAll(async () => {
  port = await freePort();
  dir = testdir('examples/quickstart', { '8080': String(port) });
  ledger = path.join(dir, 'ledger.db');
});

afterAll(async () => {
  // Whatever happened above, leave no process running.
  await deployer(args('destroy', '--yes'), { DEPLOY_LEDGER_DB: ledger });
  removeTestdirs();
});

describe('quick start on the local target', () => {
  let supervisorPid: number;
  let bucketPath: string;

  it('applies: the service answers on its port and the bucket directory exists', async () => {
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'), { DEPLOY_LEDGER_DB: ledger });
    expect(code, JSON.stringify(json.summary.components, null, 2)).toBe(0);
    expect(json.ok).toBe(true);
    expect(json.summary.counts).toMatchObject({ created: 2, failed: 0 });
    const answer = await getJson<{ greeting: string; assets: string }>(port);
    expect(answer.greeting).toBe('hello from dev');
    bucketPath = answer.assets;
    expect(existsSync(bucketPath)).toBe(true);
    const state = await deployerJson<{ outputs: { pid: number; url: string } }>(args('state', 'show', 'web/api'));
    expect(state.json.outputs.url).toBe(`http://127.0.0.1:${port}`);
    supervisorPid = state.json.outputs.pid;
    expect(isAlive(supervisorPid)).toBe(true);
  });

  it('records a deployment per service in the ledger', async () => {
    const { code, json } = await deployerJson<{ deployments: Array<{ service: string; status: string; environment: string }> }>(
      ['ledger', 'list-deployments', '-C', dir],
      { DEPLOY_LEDGER_DB: ledger },
    );
    expect(code).toBe(0);
    expect(json.deployments).toHaveLength(1);
    expect(json.deployments[0]).toMatchObject({ service: 'web', status: 'success', environment: 'dev' });
  });

  it('a second apply changes nothing and runs no Pulumi operation', async () => {
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'), { DEPLOY_LEDGER_DB: ledger });
    expect(code).toBe(0);
    expect(json.summary.engineOperations).toBe(0);
    expect(json.summary.counts.unchanged).toBe(2);
    expect(json.summary.components.every((c) => !c.engine)).toBe(true);
  });

  it('updates a changed service while it keeps answering', async () => {
    editFile(path.join(dir, 'services/web/api.yaml'), 'GREETING: hello from dev', 'GREETING: hello, updated');
    const plan = await deployerJson<{ actions: Array<{ id: string; action: string; changes: string[] }> }>(args('plan'));
    expect(plan.json.actions.find((a) => a.id === 'web/api')).toMatchObject({ action: 'update', changes: ['/env/GREETING'] });

    const traffic = steadyTraffic(port);
    const { code, json } = await deployerJson<ApplyJson>(args('apply', '--yes'), { DEPLOY_LEDGER_DB: ledger });
    const seen = await traffic.stop();
    expect(code).toBe(0);
    expect(json.summary.counts).toMatchObject({ updated: 1, unchanged: 1 });
    expect(json.summary.engineOperations).toBe(1);
    expect(seen.failed, seen.errors.join('\n')).toBe(0);
    expect(seen.ok).toBeGreaterThan(10);
    expect((await getJson<{ greeting: string }>(port)).greeting).toBe('hello, updated');
  });

  it('blue-green and canary updates through the engine keep answering too', async () => {
    const api = path.join(dir, 'services/web/api.yaml');
    const strategies: Array<[string, string, string]> = [
      ['type: rolling\n    maxUnavailable: 0\n    maxSurge: 1', 'type: blue-green', 'hello, blue-green'],
      ['type: blue-green', 'type: canary\n    canary:\n      percentage: 50\n      bakeTime: 2s', 'hello, updated'],
    ];
    let greeting = 'hello, updated';
    for (const [from, to, next] of strategies) {
      editFile(api, from, to);
      editFile(api, `GREETING: ${greeting}`, `GREETING: ${next}`);
      greeting = next;
      const traffic = steadyTraffic(port);
      const { code } = await deployerJson<ApplyJson>(args('apply', '--yes'), { DEPLOY_LEDGER_DB: ledger });
      const seen = await traffic.stop();
      expect(code, to).toBe(0);
      expect(seen.failed, `${to}: ${seen.errors.join('\n')}`).toBe(0);
      expect((await getJson<{ greeting: string }>(port)).greeting).toBe(next);
    }
  });

  it('refuses a concurrent apply with exit 3, naming the holder of the lock', async () => {
    editFile(path.join(dir, 'services/web/api.yaml'), 'GREETING: hello, updated', 'GREETING: hello, third');
    const first = spawnDeployer(args('apply', '--yes'), { DEPLOY_LEDGER_DB: ledger });
    await first.waitFor('acquired');
    const second = await deployer(args('apply', '--yes'), { DEPLOY_LEDGER_DB: ledger });
    // Whatever is asserted below, the first run finishes before the next test starts.
    const firstExit = first.exit;
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/lock stack:quickstart:env:dev is held by \S+@\S+ since/);
    expect(second.stderr).toContain(`deployer lock unlock -C ${path.relative(process.cwd(), dir)} --stack quickstart -e dev --force `);
    expect(await firstExit).toBe(0);
    expect((await getJson<{ greeting: string }>(port)).greeting).toBe('hello, third');
  });

  it('rejects invalid YAML with exit 2 and file:line:col, writing nothing', async () => {
    const before = snapshotTree(path.join(dir, '.deployer'));
    const ledgerBefore = readFileSync(ledger);
    const bad = path.join(dir, 'services/web/api.yaml');
    const good = readFileSync(bad, 'utf8');
    editFile(bad, '  port: ', '  port: [not, a, port]\n  porta: ');
    try {
      const r = await deployer(args('apply', '--yes'), { DEPLOY_LEDGER_DB: ledger });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /services\/web\/api\.yaml:\d+:\d+ {2}MicroService\/api {2}\/spec\/port {2}must be an integer from 1 to 65535, or "auto"/,
      );
      expect(r.stderr).toMatch(/unknown field "porta"; did you mean "port"\?/);
      expect(snapshotTree(path.join(dir, '.deployer'))).toEqual(before);
      expect(readFileSync(ledger).equals(ledgerBefore)).toBe(true);
    } finally {
      editFile(bad, readFileSync(bad, 'utf8'), good);
    }
  });

  it('destroys everything: the process is gone, the directory is gone, and a plan shows creates again', async () => {
    const { code, json } = await deployerJson<ApplyJson>(args('destroy', '--yes'), { DEPLOY_LEDGER_DB: ledger });
    expect(code).toBe(0);
    expect(json.summary.counts.deleted).toBe(2);
    await expect(get(port)).rejects.toThrow(/ECONNREFUSED/);
    expect(isAlive(supervisorPid)).toBe(false);
    expect(existsSync(bucketPath)).toBe(false);
    const plan = await deployerJson<{ summary: Record<string, number> }>(args('plan'));
    expect(plan.json.summary).toMatchObject({ create: 2, noop: 0 });
  });
});
