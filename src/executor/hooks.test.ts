/** Hooks run as real processes: their environment, directory, output, failures, timeout and cancellation. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeployerError } from '../errors.js';
import { runHooks, type HookContext } from './hooks.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  path.join(dir, 'env.mjs'),
  "import fs from 'node:fs'; fs.writeFileSync('out.json', JSON.stringify({ cwd: process.cwd(), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('DEPLOYER_') || k === 'EXTRA')) })); console.log('line one'); console.error('line two');\n",
);

function context(over: Partial<HookContext> = {}): HookContext & { said: string[] } {
  const said: string[] = [];
  return { stack: 's', environment: 'e', component: 'a/b', action: 'update', baseDir: dir, say: (m) => said.push(m), said, ...over };
}

describe('hooks', () => {
  it('runs with the component in its environment, in the file directory, and streams its output', async () => {
    const ctx = context({ outputs: { url: 'http://x' } });
    await runHooks([{ name: 'env', command: [process.execPath, 'env.mjs'], env: { EXTRA: '1' } }], 'post', ctx);
    const out = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8')) as { cwd: string; env: Record<string, string> };
    expect(out.cwd).toBe(dir);
    expect(out.env).toEqual({
      EXTRA: '1',
      DEPLOYER_STACK: 's',
      DEPLOYER_ENVIRONMENT: 'e',
      DEPLOYER_COMPONENT: 'a/b',
      DEPLOYER_ACTION: 'update',
      DEPLOYER_HOOK: 'post',
      DEPLOYER_OUTPUTS: '{"url":"http://x"}',
    });
    expect(ctx.said).toEqual(expect.arrayContaining(['post hook "env": line one', 'post hook "env": line two']));
  });

  it('a failing hook fails the component with its exit code and last lines, unless onFailure is warn', async () => {
    const failing = { command: [process.execPath, '-e', "console.log('about to fail'); process.exit(3)"] };
    const err = await runHooks([failing], 'pre', context()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployerError);
    expect((err as DeployerError).message).toMatch(/^a\/b: pre hook ".*" failed: exit code 3$/);
    expect((err as DeployerError).details).toContain('about to fail');
    const ctx = context();
    await runHooks([{ ...failing, name: 'soft', onFailure: 'warn' }], 'pre', ctx);
    expect(ctx.said.at(-1)).toBe('pre hook "soft" failed (exit code 3); onFailure: warn, going on');
  });

  it('kills a hook at its timeout, and reports a program that does not exist', async () => {
    const slow = runHooks(
      [{ name: 'slow', command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeout: 1 }],
      'pre',
      context(),
    );
    await expect(slow).rejects.toThrow(/pre hook "slow" failed: timed out after 1 s/);
    await expect(runHooks([{ command: ['./no-such-program'] }], 'pre', context())).rejects.toThrow(
      /cannot run \.\/no-such-program: .*ENOENT/,
    );
  });

  it('stops a running hook when the run is cancelled', async () => {
    const cancel = new AbortController();
    // Cancelled once it is running: when its first line arrives.
    const ctx = context({ signal: cancel.signal, say: (m) => m.endsWith(': started') && cancel.abort() });
    const hook = { name: 'long', command: [process.execPath, '-e', "console.log('started'); setTimeout(() => {}, 60000)"] };
    await expect(runHooks([hook], 'post', ctx)).rejects.toThrow(/^a\/b: post hook "long" failed: cancelled$/);
  });
});
