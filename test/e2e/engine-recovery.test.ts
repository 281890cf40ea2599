/**
 * The engine after a killed run: the `pulumi` process of a killed deployer leaves its stack
 * lock and, often, a pending create behind. The next operation (with `recover`) clears the lock
 * of the dead process, refreshes away the pending create, and succeeds.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, ensurePulumiCli } from '../../src/engine/index.js';
import { LocalTarget } from '../../src/targets/local/index.js';
import { getJson } from '../helpers/http.js';
import { freePort, repoRoot } from '../helpers/testdir.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('recovery');
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('engine recovery', () => {
  it('operates on a stack whose last operation was killed midway', async () => {
    const dir = tempDir();
    const port = await freePort();
    const server = path.join(repoRoot, 'test/fixtures/apps/echo-server.mjs');
    const child = spawn(process.execPath, [path.join(repoRoot, 'test/helpers/engine-child.mjs'), dir, String(port), server], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('creating') && resolve());
      child.on('exit', (code) => reject(new Error(`the child ended (${code}) before creating`)));
    });
    child.kill('SIGKILL');

    const target = new LocalTarget();
    const engine = await createEngine({
      cli: await ensurePulumiCli(),
      backendUrl: pathToFileURL(path.join(dir, 'pulumi')).href,
      workRoot: path.join(dir, 'work'),
      passphrase: 'recovery',
      env: target.engineEnv(),
    });
    const component = { id: 'app/api', service: 'app', name: 'api', kind: 'MicroService' as const, target: 'local' as const, spec: {}, dependsOn: [], references: [], baseDir: dir, source: { file: path.join(dir, 'api.yaml'), display: 'api.yaml', docIndex: 0 }, specHash: '' };
    const spec = { command: [process.execPath, server], port, env: { VERSION: 'v2' } };
    const notices: string[] = [];
    const op = { stackName: 'rec.test.app.api', program: target.program({ ...component, spec }, spec, { stack: 'rec', environment: 'test', stackDir: dir }), onNotice: (m: string) => notices.push(m), recover: true };
    cleanups.push(() => engine.destroy({ ...op, program: async () => ({}) }));
    const result = await engine.up(op);
    expect(result.outputs['url']).toBe(`http://127.0.0.1:${port}`);
    expect(await getJson(port)).toMatchObject({ version: 'v2' });
    // What it found and cleared, as the run's output says it.
    expect(notices.join('\n')).toMatch(/removed the lock a killed pulumi \(pid \d+\) left on rec.test.app.api|waiting for an earlier pulumi/);
    expect(notices.join('\n')).toMatch(/1 operation\(s\) of an interrupted run are pending on rec.test.app.api: refreshing it first/);
  });
});
