/**
 * A large destroy shared out among operations, in-process through the real engine: the destroys
 * that follow no other are split among operations that run at once, and those that must follow
 * them run next, in an operation of their own, once theirs have ended. Behind a delete that
 * failed in an earlier operation nothing is deleted; the others behind the ones that succeeded go on.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARE_OUT_FROM, shareOut } from '../../src/engine/batch-groups.js';
import { BATCHES_AT_ONCE } from '../../src/engine/engine.js';
import { DestroyBlockedError } from '../../src/errors.js';
import { bucketEngine, checkpointFiles, foreignDependencies } from '../helpers/bucket-engine.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('destroy-shared');
const nothing = async (): Promise<Record<string, never>> => ({});

describe('a large destroy shared out', () => {
  it('deletes the free destroys in operations at once, then those behind them, and keeps what a failed delete depends on', async () => {
    const dir = tempDir();
    const { engine, bucket } = await bucketEngine(dir, 'wide');
    const leaves = Array.from({ length: SHARE_OUT_FROM + 2 }, (_, i) => bucket(`l${i}`));
    const [mid, base] = [bucket('mid'), bucket('base')];
    const all = [...leaves, mid, base];
    const dirs = new Map((await Promise.all(all.map((b) => engine.up(b)))).map((r, i) => [all[i]!.stackName, String(r.outputs['path'])]));

    // l5's bucket holds an object: a bucket that is not empty refuses to be deleted. mid follows
    // the second half of the leaves only; base follows every leaf and mid.
    const failing = leaves[5]!;
    writeFileSync(path.join(dirs.get(failing.stackName)!, 'kept.txt'), 'still here\n');
    const secondHalf = leaves.slice(leaves.length / 2).map((l) => l.stackName);
    const before = engine.operations;
    const outcomes = await Promise.allSettled([
      ...leaves.map((l) => engine.destroy({ ...l, program: nothing })),
      engine.destroy({ ...mid, program: nothing, after: secondHalf }),
      engine.destroy({ ...base, program: nothing, after: [...leaves.map((l) => l.stackName), mid.stackName] }),
    ]);
    const outcomeOf = new Map(outcomes.map((o, i) => [all[i]!.stackName, o]));

    // The leaves in as many operations at once as the machine runs (two on two cores), then one for mid.
    const leafParts = shareOut(
      leaves.map((l) => ({ m: { kind: 'destroy' as const, o: l } })),
      BATCHES_AT_ONCE,
    ).now.length;
    expect(leafParts).toBeGreaterThanOrEqual(2);
    expect(engine.operations - before).toBe(leafParts + 1);
    const failed = outcomeOf.get(failing.stackName)!;
    expect(failed.status === 'rejected' && String(failed.reason)).toMatch(/not empty/);
    const blocked = outcomeOf.get(base.stackName)!;
    expect(blocked.status === 'rejected' && blocked.reason).toBeInstanceOf(DestroyBlockedError);
    expect(blocked.status === 'rejected' && (blocked.reason as DestroyBlockedError).blockedBy).toEqual([failing.stackName]);
    const deleted = all.filter((b) => b !== failing && b !== base);
    expect(deleted.filter((b) => outcomeOf.get(b.stackName)!.status !== 'fulfilled')).toEqual([]);
    expect(deleted.filter((b) => existsSync(dirs.get(b.stackName)!))).toEqual([]);
    expect([existsSync(dirs.get(base.stackName)!), existsSync(dirs.get(failing.stackName)!)]).toEqual([true, true]);
    expect(checkpointFiles(dir)).toEqual(['wide.test.app.base.json', 'wide.test.app.l5.json']);
    // What is left is each component's own again: no resource depends on another component's.
    for (const name of ['base', 'l5']) expect(foreignDependencies(dir, `wide.test.app.${name}`)).toEqual([]);
  });
});
