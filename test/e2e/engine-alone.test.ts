/**
 * The engine with shared operations turned off (a run under service or component locks, where
 * other runs deploy the stack's other components at the same moment): every component is one
 * Pulumi operation on its own stack, in-process through the real engine, and a destroy forgets
 * the stack.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketEngine } from '../helpers/bucket-engine.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('engine-alone');

describe('the engine without shared operations', () => {
  it('runs each component as its own operation, and a destroy removes its stack', async () => {
    const dir = tempDir();
    const { engine, bucket } = await bucketEngine(dir, 'alone', false);
    const [a, b] = [bucket('a'), bucket('b')];
    const results = await Promise.all([engine.up(a), engine.up(b)]);
    expect(engine.operations).toBe(2);
    expect(results.map((r) => r.changes)).toEqual([{ create: 2 }, { create: 2 }]);
    expect(existsSync(String(results[0]!.outputs['path']))).toBe(true);
    const stacks = path.join(dir, 'pulumi', '.pulumi', 'stacks', 'deployer');
    expect(
      readdirSync(stacks)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    ).toEqual(['alone.test.app.a.json', 'alone.test.app.b.json']);
    for (const s of [a, b]) await engine.destroy({ ...s, program: async () => ({}) });
    expect(existsSync(String(results[0]!.outputs['path']))).toBe(false);
    expect(readdirSync(stacks).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});
