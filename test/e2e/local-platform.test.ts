/**
 * The local target as a small platform (issue 19), through the real Pulumi engine: `port: auto`
 * takes a port from the Stack's range and keeps it across applies and a restart; a service finds
 * the one it depends on through DEPLOYER_SERVICE_<SERVICE>_<COMPONENT>_URL; the registry file
 * names every service's endpoint; and a second stack asking for a port the first one holds is
 * refused before it starts anything, naming the port and the process that holds it; `deployer
 * stop|start` take a service down on purpose (no drift, in the ledger) and bring it back; a
 * Worker runs with no port, limited and checked by its command; a CronJob runs on its schedule
 * and on demand.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployer, deployerJson } from '../helpers/cli.js';
import { editFile, removeTestdirs, testdir } from '../helpers/testdir.js';

let dir: string;
const args = (...a: string[]): string[] => [...a, '-C', dir, '-e', 'dev'];

interface Answer {
  name: string;
  greeting: string;
  backend: string | null;
  upstream: { name: string; greeting: string } | null;
}
type State = { components: Record<string, { outputs: { port: number; url: string } }> };

const portsOf = async (): Promise<Record<string, number>> => {
  const s = await deployerJson<State>(args('state', 'show'));
  // A Worker has no port.
  return Object.fromEntries(
    Object.entries(s.json.components).flatMap(([id, c]) => (c.outputs.port === undefined ? [] : [[id, c.outputs.port]])),
  );
};
const answer = async (port: number): Promise<Answer> => (await fetch(`http://127.0.0.1:${port}/`)).json() as Promise<Answer>;

beforeAll(async () => {
  dir = testdir('local-platform', { PORT_RANGE: '31000-31999' });
  const r = await deployer(args('apply', '--yes'));
  expect(r.code, r.stderr + r.stdout).toBe(0);
});
afterAll(async () => {
  await deployer(args('destroy', '--yes'));
  removeTestdirs();
});

describe('the local target as a small platform', () => {
  it('port: auto takes a port of the range; the dependent process finds its dependency by the variable deployer sets', async () => {
    const ports = await portsOf();
    for (const port of Object.values(ports)) {
      expect(port).toBeGreaterThanOrEqual(31000);
      expect(port).toBeLessThanOrEqual(31999);
    }
    expect(ports['web/api']).not.toBe(ports['web/backend']);
    const api = await answer(ports['web/api']!);
    expect(api.backend).toBe(`http://127.0.0.1:${ports['web/backend']}`);
    expect(api.upstream).toMatchObject({ name: 'backend', greeting: 'from the backend' });
    // The registry names every service's endpoint and the variable its dependents find it in.
    const registry = JSON.parse(readFileSync(path.join(dir, '.deployer/local/platform/dev/registry.json'), 'utf8')) as {
      services: Record<string, { url: string; port: number; variable: string }>;
    };
    expect(registry.services['web/backend']).toEqual({
      kind: 'MicroService',
      url: `http://127.0.0.1:${ports['web/backend']}`,
      port: ports['web/backend'],
      variable: 'DEPLOYER_SERVICE_WEB_BACKEND_URL',
    });
    expect(registry.services['web/api']?.port).toBe(ports['web/api']);
  });

  it('deployer logs prints what the processes wrote, each line stamped with its time and process', async () => {
    const ports = await portsOf();
    await answer(ports['web/api']!);
    const logs = await deployer(args('logs', 'web/api', '--since', '1h'));
    expect(logs.code, logs.stderr).toBe(0);
    const lines = logs.stdout.trim().split('\n');
    expect(lines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z \[\d+\] api listening$/.test(l))).toBe(true);
    expect(lines.some((l) => / \[\d+\] GET \/$/.test(l))).toBe(true);
    const unknown = await deployer(args('logs', 'web/nothing'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/web\/nothing is not deployed in platform\/dev[\s\S]*web\/api, web\/backend/);
  });

  it('an auto port stays the same across three applies and a restart', async () => {
    const first = await portsOf();
    for (const [from, greeting] of [
      ['v1', 'v2'],
      ['v2', 'v3'],
      ['v3', 'v4'],
    ] as const) {
      editFile(path.join(dir, 'services/web/api.yaml'), `GREETING: ${from}`, `GREETING: ${greeting}`);
      const r = await deployer(args('apply', '--yes'));
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(await portsOf()).toEqual(first);
      expect((await answer(first['web/api']!)).greeting).toBe(greeting);
    }
    const restarted = await deployer(args('restart', 'web/api'));
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(await portsOf()).toEqual(first);
    expect((await answer(first['web/api']!)).greeting).toBe('v4');
  });

  it('a stack asking for a port another stack holds is refused before it starts anything, naming the holder', async () => {
    const held = (await portsOf())['web/api']!;
    const other = testdir('port-clash', { CLASH_PORT: String(held) });
    const r = await deployer(['apply', '--yes', '-C', other, '-e', 'dev']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`other/web: port ${held} is already in use by process \\d+ \\(.*supervisor\\.js`));
    expect(r.stderr).toMatch(/Nothing was started or changed/);
    // Nothing started, nothing recorded: not even the bucket that had no port to ask for.
    expect(existsSync(path.join(other, '.deployer/stacks'))).toBe(false);
    expect(existsSync(path.join(other, '.deployer/local/clash/dev/buckets'))).toBe(false);
    expect((await answer(held)).name).toBe('api');
  });

  it('a service asking for more memory than the machine has is refused before anything starts, unless --ignore-capacity', async () => {
    const other = testdir('port-clash', { CLASH_PORT: String(31999) });
    editFile(path.join(other, 'services/other/web.yaml'), 'port: 31999', 'port: auto\n  memory: 100000000');
    const refused = await deployer(['apply', '--yes', '-C', other, '-e', 'dev']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /this machine cannot take a component of the plan: other\/web asks for 100000000 MiB of memory \(100000000 MiB × 1 replica\(s\)\); \d+ MiB is available/,
    );
    expect(refused.stderr).toMatch(/Nothing was started or changed.*--ignore-capacity/);
    expect(existsSync(path.join(other, '.deployer/stacks'))).toBe(false);
    const anyway = await deployer(['apply', '--yes', '--ignore-capacity', '-C', other, '-e', 'dev']);
    expect(anyway.code, anyway.stderr).toBe(0);
    expect(anyway.stdout + anyway.stderr).toMatch(/deployed despite --ignore-capacity: other\/web asks for 100000000 MiB/);
    expect((await deployer(['destroy', '--yes', '-C', other, '-e', 'dev'])).code).toBe(0);
  });

  it('deployer stop and start: stopped on purpose is no drift, recorded in the ledger, and serves again on the same port', async () => {
    type Drift = { components: Array<{ id: string; status: string; findings: Array<{ path: string; message: string }> }> };
    type Listed = { services: Array<{ id: string; state: string; detail?: string; stoppedBy?: string; replicas: unknown[] }> };
    const port = (await portsOf())['web/api']!;
    const stopped = await deployer(args('stop', 'web/api'));
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/web\/api: stopped \(supervisor \d+ and its processes\)/);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    const listed = (await deployerJson<Listed>(args('services'))).json.services.find((s) => s.id === 'web/api')!;
    expect(listed).toMatchObject({
      state: 'stopped',
      replicas: [],
      detail: expect.stringMatching(/^stopped by .+ \(deployer start starts it\)$/),
    });
    // Stopped through deployer: drift does not report it, and an apply with nothing changed leaves it stopped.
    const drift = await deployerJson<Drift>(args('drift', '--component', 'web/api'));
    expect(drift.code, JSON.stringify(drift.json)).toBe(0);
    expect(drift.json.components.find((c) => c.id === 'web/api')?.findings).toEqual([]);
    expect((await deployer(args('apply', '--yes'))).code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    // Naming something not deployed changes nothing.
    const unknown = await deployer(args('stop', 'web/nothing'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/not deployed in platform\/dev: web\/nothing/);

    const started = await deployer(args('start', 'web/api'));
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/web\/api: started: generation \d+ serves http:\/\/127\.0\.0\.1:\d+/);
    expect((await answer(port)).name).toBe('api');
    expect(await portsOf()).toMatchObject({ 'web/api': port });
    const again = (await deployerJson<Listed>(args('services'))).json.services.find((s) => s.id === 'web/api')!;
    expect(again.state).toBe('running');
    expect(again.stoppedBy).toBeUndefined();

    type Deployment = { service: string; operation?: string; status: string; metadata: { results: Record<string, string> } };
    const ledger = (await deployerJson<{ deployments: Deployment[] }>(args('ledger', 'list-deployments'))).json.deployments;
    const lifecycle = ledger.filter((d) => d.operation === 'stop' || d.operation === 'start');
    expect(lifecycle.map((d) => [d.operation, d.service, d.status, d.metadata.results['web/api']]).sort()).toEqual([
      ['start', 'web', 'success', 'started'],
      ['stop', 'web', 'success', 'stopped'],
    ]);
  });

  it('a Worker runs its processes with no port, inside its limits, checked by its command; a change rolls it', async () => {
    type Listed = {
      id: string;
      kind: string;
      state: string;
      port?: number;
      replicas: Array<{ pid: number }>;
      limits?: { mechanism: string; memory?: string; warnings: string[] };
      lastHealthCheck?: { status: string };
    };
    const consumer = async (): Promise<Listed> =>
      (await deployerJson<{ services: Listed[] }>(args('services'))).json.services.find((s) => s.id === 'lab/consumer')!;
    let now = await consumer();
    while (now.lastHealthCheck?.status !== 'healthy') now = await consumer();
    expect(now).toMatchObject({ kind: 'Worker', state: 'running' });
    expect(now.port).toBeUndefined();
    expect(now.replicas).toHaveLength(2);
    if (now.limits!.mechanism.startsWith('cgroup')) expect(now.limits!.memory).toMatch(/128 MiB \(cgroup v[12]\)/);
    else expect(now.limits!.warnings.join('\n')).toMatch(/memory 128 MiB applied as a process limit/);
    const outputs = (await deployerJson<{ components: Record<string, { outputs: Record<string, unknown> }> }>(args('state', 'show'))).json
      .components['lab/consumer']!.outputs;
    expect(outputs).toMatchObject({ name: 'lab/consumer', pid: expect.any(Number) });
    let logs = (await deployer(args('logs', 'lab/consumer', '--since', '1h'))).stdout;
    while (!/took job \d+ from jobs/.test(logs)) logs = (await deployer(args('logs', 'lab/consumer', '--since', '1h'))).stdout;
    expect(logs).toMatch(/consumer v1 started on jobs \(PORT=none\)/);

    editFile(path.join(dir, 'services/lab/consumer.yaml'), 'GREETING: v1', 'GREETING: v2');
    const r = await deployer(args('apply', '--yes'));
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const rolled = await consumer();
    expect(rolled.state).toBe('running');
    expect(rolled.replicas.map((x) => x.pid)).not.toEqual(expect.arrayContaining(now.replicas.map((x) => x.pid)));
    expect((await deployer(args('logs', 'lab/consumer', '--since', '1h'))).stdout).toMatch(
      /consumer stopping after \d+ jobs[\s\S]*consumer v2 started on jobs/,
    );
    const drift = await deployerJson<{ components: Array<{ id: string; findings: unknown[] }> }>(
      args('drift', '--component', 'lab/consumer'),
    );
    expect(drift.code, JSON.stringify(drift.json)).toBe(0);
  });

  it('a CronJob is scheduled in its time zone, runs on demand with its retries, and a schedule it cannot run is refused at plan', async () => {
    type Listed = {
      id: string;
      kind: string;
      state: string;
      cron?: { nextRunAt?: string; suspended: boolean; lastRun?: { status: string } };
    };
    const nightly = (await deployerJson<{ services: Listed[] }>(args('services'))).json.services.find((s) => s.id === 'lab/nightly')!;
    expect(nightly).toMatchObject({ kind: 'CronJob', state: 'running', cron: { suspended: false } });
    // 03:00 in Paris is 02:00 UTC in December (and 01:00 in summer).
    const next = new Date(nightly.cron!.nextRunAt!);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect([1, 2]).toContain(next.getUTCHours());
    expect(next.getUTCMinutes()).toBe(0);

    const run = await deployer(args('run', 'lab/nightly'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/lab\/nightly: run [0-9a-f-]+ succeeded after 2 attempt\(s\) \(exit code 0\)/);
    const logs = (await deployer(args('logs', 'lab/nightly'))).stdout;
    expect(logs).toMatch(/nightly job: failing this attempt[\s\S]*nightly job: done/);
    expect((await deployer(args('services'))).stdout).toMatch(
      /lab\/nightly: next run \S+; last run \S+ \(manual\): succeeded, exit code 0/,
    );
    const notAJob = await deployer(args('run', 'lab/consumer'));
    expect(notAJob.code).toBe(2);
    expect(notAJob.stderr).toMatch(/lab\/consumer is not a CronJob deployed in platform\/dev[\s\S]*deployed CronJobs: lab\/nightly/);

    const other = testdir('local-platform', { PORT_RANGE: '32000-32099' });
    editFile(path.join(other, 'services/lab/nightly.yaml'), 'schedule: "0 3 * * *"', 'schedule: "0 3 * * ? 2030"');
    const plan = await deployer(['plan', '-C', other, '-e', 'dev']);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(/services\/lab\/nightly\.yaml:\d+:\d+ .*\/spec\/schedule .*year field "2030"/);
  });

  it('services --json matches what runs, after a process is killed and after a whole service is', async () => {
    type Services = {
      services: Array<{
        id: string;
        state: string;
        restarts: number;
        supervisorPid?: number;
        replicas: Array<{ pid: number }>;
        health?: { status: string };
      }>;
    };
    const services = async (): Promise<Services['services']> => (await deployerJson<Services>(args('services'))).json.services;
    const before = await services();
    expect(before.map((s) => `${s.id} ${s.state} ${s.health?.status}`)).toEqual([
      'lab/consumer running undefined',
      'lab/hog running healthy',
      'lab/nightly running undefined',
      'web/api running healthy',
      'web/backend running healthy',
    ]);
    const api = before.find((s) => s.id === 'web/api')!;
    const killed = api.replicas[0]!.pid;
    process.kill(killed, 'SIGKILL');
    // The supervisor restarts it: the registry shows the new process and counts the restart.
    let now = await services();
    while (now.find((s) => s.id === 'web/api')!.restarts === api.restarts || now.find((s) => s.id === 'web/api')!.state !== 'running')
      now = await services();
    const after = now.find((s) => s.id === 'web/api')!;
    expect(after.restarts).toBe(api.restarts + 1);
    expect(after.replicas[0]!.pid).not.toBe(killed);
    expect(() => process.kill(after.replicas[0]!.pid, 0)).not.toThrow();
    // The backend's supervisor and its processes killed behind deployer's back: stopped.
    const backend = now.find((s) => s.id === 'web/backend')!;
    process.kill(-backend.supervisorPid!, 'SIGKILL');
    while ((await services()).find((s) => s.id === 'web/backend')!.state !== 'stopped');
    expect((await services()).find((s) => s.id === 'web/backend')).toMatchObject({ state: 'stopped', replicas: [] });
  });

  it('a process over its memory limit is killed, restarted, reported, and counted in the circuit breaker', async () => {
    type Hog = {
      state: string;
      port: number;
      restarts: number;
      replicas: Array<{ pid: number }>;
      limits: { mechanism: string; memory?: string; cpu?: string; warnings: string[] };
      oomKills?: number;
      lastExit?: { reason: string };
      breaker?: { position: string; failures: number; oomKills: number; reason: string };
    };
    const hogNow = async (): Promise<Hog> =>
      (await deployerJson<{ services: Array<Hog & { id: string }> }>(args('services'))).json.services.find((s) => s.id === 'lab/hog')!;
    const before = await hogNow();
    expect(before.state).toBe('running');
    // On this machine the limits are cgroups (v2, or v1 where v2 has no memory controller); prlimit elsewhere, with a warning.
    if (before.limits.mechanism.startsWith('cgroup')) expect(before.limits.memory).toMatch(/128 MiB \(cgroup v[12]\)/);
    else expect(before.limits.warnings.join('\n')).toMatch(/memory 128 MiB applied as a process limit/);
    await fetch(`http://127.0.0.1:${before.port}/hog`).catch(() => undefined);
    let after = await hogNow();
    while (after.restarts === before.restarts || after.state !== 'running') after = await hogNow();
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.replicas[0]!.pid).not.toBe(before.replicas[0]!.pid);
    if (before.limits.mechanism.startsWith('cgroup')) {
      expect(after.oomKills).toBe(1);
      expect(after.lastExit?.reason).toMatch(/killed by the kernel: over its memory limit/);
    } else expect(after.lastExit?.reason).toMatch(/exit code/);
    const table = await deployer(args('services'));
    expect(table.stdout).toMatch(/lab\/hog: limits .*128 MiB/);
    if (before.limits.mechanism.startsWith('cgroup')) {
      // Drift says it too: the restart hid it from anyone who only looks at what serves.
      const drift = await deployerJson<{ components: Array<{ id: string; findings: Array<{ path: string; message: string }> }> }>(
        args('drift', '--component', 'lab/hog'),
      );
      expect(drift.code).toBe(4);
      expect(drift.json.components.find((c) => c.id === 'lab/hog')?.findings).toEqual([
        expect.objectContaining({
          path: 'oomKills',
          message: expect.stringMatching(/had 1 process\(es\) killed by the kernel for going over its memory limit/),
        }),
      ]);
    }

    // Killed again before it lived the recovery time: the Stack's circuit breaker (failureThreshold 2)
    // opens, and the supervisor stops restarting it.
    const cgroup = before.limits.mechanism.startsWith('cgroup');
    await fetch(`http://127.0.0.1:${after.port}/hog`).catch(() => undefined);
    let open = await hogNow();
    while (open.breaker?.position !== 'open') open = await hogNow();
    expect(open).toMatchObject({ state: 'failed', replicas: [], restarts: after.restarts });
    expect(open.breaker).toMatchObject({ failures: 2, oomKills: cgroup ? 2 : 0 });
    expect(open.breaker!.reason).toMatch(/^circuit breaker open: 2 process\(es\) died in a row.*; not restarted until /);
    expect((await deployer(args('services'))).stdout).toMatch(/lab\/hog\s+failed\s+0 [\s\S]*lab\/hog: circuit breaker open/);
    // Drift says it, critical; a reconcile cycle records it in the ledger.
    type Finding = { path: string; severity: string; message: string; actual?: unknown };
    const drift = await deployerJson<{ components: Array<{ id: string; findings: Finding[] }> }>(args('drift', '--component', 'lab/hog'));
    expect(drift.code).toBe(4);
    expect(drift.json.components.find((c) => c.id === 'lab/hog')?.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'circuitBreaker', severity: 'critical', message: expect.stringMatching(/: circuit breaker open/) }),
      ]),
    );
    expect((await deployer(args('reconcile', '--once'))).code).toBe(4);
    type Record = { service: string; operation?: string; metadata: { drift?: { oomKills?: number; report: Finding[] } } };
    const records = (await deployerJson<{ deployments: Record[] }>(args('ledger', 'list-deployments'))).json.deployments;
    const cycle = records.find((d) => d.operation === 'drift' && d.service === 'lab')!;
    expect(cycle.metadata.drift!.report.map((f) => f.path)).toContain('circuitBreaker');
    if (cgroup) expect(cycle.metadata.drift!.oomKills).toBe(2);
  });
});
