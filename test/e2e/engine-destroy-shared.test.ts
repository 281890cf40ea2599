/**
 * A large destroy shared out among operations, in-process through the real engine: the destroys
 * that follow no other are split among operations that run at once, and those that must follow
 * them run next, together in an operation of their own, once theirs have ended. Behind a delete
 * that failed in an earlier operation nothing is deleted, nor behind that; the others go on.
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
  it('deletes the free destroys in operations at once, then those behind them together, and keeps what a failed delete depends on', async () => {
    const dir = tempDir();
    const { engine, bucket } = await bucketEngine(dir, 'wide');
    const leaves = Array.from({ length: SHARE_OUT_FROM + 2 }, (_, i) => bucket(`l${i}`));
    const [midA, midB, base, root] = [bucket('midA'), bucket('midB'), bucket('base'), bucket('root')];
    const all = [...leaves, midA, midB, base, root];
    const dirs = new Map((await Promise.all(all.map((b) => engine.up(b)))).map((r, i) => [all[i]!.stackName, String(r.outputs['path'])]));

    // l5's bucket holds an object: a bucket that is not empty refuses to be deleted. midA follows
    // the second half of the leaves, midB a few of them; base follows every leaf and both mids;
    // root follows base.
    const failing = leaves[5]!;
    writeFileSync(path.join(dirs.get(failing.stackName)!, 'kept.txt'), 'still here\n');
    const names = (bs: Array<{ stackName: string }>): string[] => bs.map((b) => b.stackName);
    const secondHalf = names(leaves.slice(leaves.length / 2));
    const few = names(leaves.slice(40, 50));
    const steps: string[] = []; // every delete's start and end, in the order the engine reported them
    const destroy = (b: { stackName: string }, after: string[] = []): Promise<unknown> =>
      engine.destroy({ ...b, program: nothing, after, onProgress: (p) => steps.push(`${p.stack} ${p.phase}`) });
    const before = engine.operations;
    const outcomes = await Promise.allSettled([
      ...leaves.map((l) => destroy(l)),
      destroy(midA, secondHalf),
      destroy(midB, few),
      destroy(base, [...names(leaves), midA.stackName, midB.stackName]),
      destroy(root, [base.stackName]),
    ]);
    const outcomeOf = new Map(outcomes.map((o, i) => [all[i]!.stackName, o]));

    // The leaves in as many operations at once as the machine runs (two on two cores), then one for both mids.
    const leafParts = shareOut(
      leaves.map((l) => ({ m: { kind: 'destroy' as const, o: l } })),
      BATCHES_AT_ONCE,
    ).now.length;
    expect(engine.operations - before).toBe(leafParts + 1);
    // A mid's delete started only once every leaf it follows had been deleted.
    const at = (step: string): number => steps.indexOf(step);
    for (const [mid, after] of [
      [midA, secondHalf],
      [midB, few],
    ] as const) {
      const leavesDone = after.map((leaf) => at(`${leaf} done`));
      expect(leavesDone.filter((i) => i < 0)).toEqual([]);
      expect(at(`${mid.stackName} started`)).toBeGreaterThan(Math.max(...leavesDone));
    }

    const failed = outcomeOf.get(failing.stackName)!;
    expect(failed.status === 'rejected' && String(failed.reason)).toMatch(/not empty/);
    // base waited for l5 in another operation; root, behind base, never started either.
    for (const [held, by] of [
      [base, failing],
      [root, base],
    ] as const) {
      const outcome = outcomeOf.get(held.stackName)!;
      expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(DestroyBlockedError);
      expect(outcome.status === 'rejected' && (outcome.reason as DestroyBlockedError).blockedBy).toEqual([by.stackName]);
    }
    const kept = [failing, base, root];
    const deleted = all.filter((b) => !kept.includes(b));
    expect(deleted.filter((b) => outcomeOf.get(b.stackName)!.status !== 'fulfilled')).toEqual([]);
    expect(deleted.filter((b) => existsSync(dirs.get(b.stackName)!))).toEqual([]);
    expect(kept.filter((b) => !existsSync(dirs.get(b.stackName)!))).toEqual([]);
    expect(checkpointFiles(dir)).toEqual(['wide.test.app.base.json', 'wide.test.app.l5.json', 'wide.test.app.root.json']);
    // What is left is each component's own again: no resource depends on another component's.
    for (const name of ['base', 'l5', 'root']) expect(foreignDependencies(dir, `wide.test.app.${name}`)).toEqual([]);
  });
});
