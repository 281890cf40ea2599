/**
 * The engine after a killed run: the `pulumi` process of a killed deployer leaves its stack
 * lock and, often, a pending create behind, and its plugins and dynamic provider keep running.
 * The run that takes over stops those (as deployer does for the run whose lock it took over),
 * and the next operation (with `recover`) clears the lock of the dead process, refreshes away
 * the pending create, and succeeds; exactly one supervisor serves the component.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, ensurePulumiCli, stopLeftovers } from '../../src/engine/index.js';
import { RUN_MARKER } from '../../src/engine/session.js';
import { processesWithEnv } from '../../src/util/process.js';
import { LocalTarget } from '../../src/targets/local/index.js';
import { getJson } from '../helpers/http.js';
import { freePort, repoRoot } from '../helpers/testdir.js';
import { useTempDirs } from '../helpers/tmp.js';

// Registered first, so it runs last: the component is destroyed before its directory goes.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
const tempDir = useTempDirs('recovery');

describe('engine recovery', () => {
  it('operates on a stack whose last operation was killed midway', async () => {
    const dir = tempDir();
    const port = await freePort();
    const server = path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs');
    const deadRun = randomUUID();
    const child = spawn(process.execPath, [path.join(repoRoot, 'test/helpers/engine-child.mjs'), dir, String(port), server, deadRun], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('creating') && resolve());
      child.on('exit', (code) => reject(new Error(`the child ended (${code}) before creating`)));
    });
    child.kill('SIGKILL');
    expect(processesWithEnv(RUN_MARKER, deadRun).length).toBeGreaterThan(0);
    expect((await stopLeftovers(deadRun)).length).toBeGreaterThan(0);
    expect(processesWithEnv(RUN_MARKER, deadRun)).toEqual([]);

    const target = new LocalTarget();
    const engine = await createEngine({
      cli: await ensurePulumiCli(),
      backendUrl: pathToFileURL(path.join(dir, 'pulumi')).href,
      workRoot: path.join(dir, 'work'),
      passphrase: 'recovery',
      env: target.engineEnv(),
    });
    const component = {
      id: 'app/api',
      service: 'app',
      name: 'api',
      kind: 'MicroService' as const,
      target: 'local' as const,
      spec: {},
      dependsOn: [],
      references: [],
      baseDir: dir,
      source: { file: path.join(dir, 'api.yaml'), display: 'api.yaml', docIndex: 0 },
      specHash: '',
    };
    const spec = { command: [process.execPath, server], port, env: { VERSION: 'v2' } };
    const notices: string[] = [];
    const op = {
      stackName: 'rec.test.app.api',
      program: target.program({ ...component, spec }, spec, { stack: 'rec', environment: 'test', stackDir: dir }),
      onNotice: (m: string) => notices.push(m),
      recover: true,
    };
    cleanups.push(() => engine.destroy({ ...op, program: async () => ({}) }));
    const result = await engine.up(op);
    expect(result.outputs['url']).toBe(`http://127.0.0.1:${port}`);
    expect(await getJson(port)).toMatchObject({ version: 'v2' });
    // What it found and cleared, as the run's output says it.
    // The killed up was a shared operation (engine/batch-operation.ts): its lock is on that stack,
    // and its checkpoint goes back to the component's own before anything else touches it.
    expect(notices.join('\n')).toMatch(
      /removed the lock a killed pulumi \(pid \d+\) left on deployer-batch\.\d+\.\d+, the shared operation of rec.test.app.api|waiting for an earlier pulumi/,
    );
    expect(notices.join('\n')).toMatch(
      /an interrupted run left 1 component\(s\) in deployer-batch\.\d+\.\d+: their checkpoints are brought up to date/,
    );
    expect(readdirSync(path.join(dir, 'pulumi', '.pulumi', 'stacks', 'deployer')).filter((f) => f.startsWith('deployer-batch.'))).toEqual(
      [],
    );
    expect(notices.join('\n')).toMatch(/1 operation\(s\) of an interrupted run are pending on rec.test.app.api: refreshing it first/);
    // The launch the killed create made and the one this create made: only one supervisor runs.
    const runtimeDir = path.join(dir, '.deployer', 'local', 'rec', 'test', 'services', 'app', 'api');
    await expect.poll(() => supervisorsOf(runtimeDir), { timeout: 20_000 }).toBe(1);
    await cleanups.pop()!();
    expect(supervisorsOf(runtimeDir)).toBe(0);
  });
});

/** How many supervisor processes run for a component's runtime directory. */
function supervisorsOf(runtimeDir: string): number {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.includes('supervisor.js') && cmd.includes(runtimeDir);
      } catch {
        return false; // gone meanwhile
      }
    }).length;
}
