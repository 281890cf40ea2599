/**
 * Destroys in order through shared operations, in-process through the real engine: the
 * destroys of a component and of those that depended on it go in one Pulumi operation that
 * deletes the dependents first; behind a delete that fails nothing is deleted (DestroyBlockedError,
 * never retried alone); a destroy handed over while the one it follows already runs waits for it.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DestroyBlockedError } from '../../src/errors.js';
import { bucketEngine, checkpointFiles, foreignDependencies } from '../helpers/bucket-engine.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('destroy-order');
const nothing = async (): Promise<Record<string, never>> => ({});

describe('destroys in order', () => {
  it('deletes dependents first in one operation, keeps what a failed delete depends on, and waits for a running one', async () => {
    const dir = tempDir();
    const { engine, bucket } = await bucketEngine(dir, 'order');
    expect(engine.sharesDestroys).toBe(true);
    const [base, web, api] = [bucket('base'), bucket('web'), bucket('api')];
    const [baseDir, webDir, apiDir] = (await Promise.all([base, web, api].map((b) => engine.up(b)))).map((r) => String(r.outputs['path']));

    // web's bucket holds an object: a bucket that is not empty refuses to be deleted.
    writeFileSync(path.join(webDir!, 'kept.txt'), 'still here\n');
    const before = engine.operations;
    const [webOut, apiOut, baseOut] = await Promise.allSettled([
      engine.destroy({ ...web, program: nothing }),
      engine.destroy({ ...api, program: nothing }),
      engine.destroy({ ...base, program: nothing, after: [web.stackName, api.stackName] }),
    ]);
    expect(engine.operations - before).toBe(1);
    expect(webOut.status === 'rejected' && String(webOut.reason)).toMatch(/not empty/);
    expect(apiOut.status).toBe('fulfilled');
    expect(baseOut.status === 'rejected' && baseOut.reason).toBeInstanceOf(DestroyBlockedError);
    expect([existsSync(baseDir!), existsSync(webDir!), existsSync(apiDir!)]).toEqual([true, true, false]);
    expect(checkpointFiles(dir)).toEqual(['order.test.app.base.json', 'order.test.app.web.json']);
    // Each checkpoint is its own again: no resource depends on another component's.
    for (const name of ['base', 'web']) expect(foreignDependencies(dir, `order.test.app.${name}`)).toEqual([]);

    // Handed over while web's operation already runs: base waits for it, then goes on its own.
    rmSync(path.join(webDir!, 'kept.txt'));
    let running!: () => void;
    const webRunning = new Promise<void>((resolve) => (running = resolve));
    const webGone = engine.destroy({ ...web, program: nothing, onProgress: (p) => p.phase === 'started' && running() });
    await webRunning;
    await Promise.all([webGone, engine.destroy({ ...base, program: nothing, after: [web.stackName] })]);
    expect(engine.operations - before).toBe(3);
    expect([existsSync(baseDir!), existsSync(webDir!)]).toEqual([false, false]);
    expect(checkpointFiles(dir)).toEqual([]);
  });
});
