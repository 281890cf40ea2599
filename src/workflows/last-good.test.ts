/**
 * `rollback --last-good` goes back to the previous good release: the version a run before the
 * current one ended with, that succeeded and was not itself rolled back — never the current
 * version under another serial (the bug: "last good" used to resolve to the current version).
 */
import { describe, expect, it } from 'vitest';
import type { ComponentState, RunMark, StackState } from '../model/state.js';
import { emptyState } from '../state/index.js';
import { MemoryStateStore } from '../state/memory.js';
import { lastGoodSerial } from './last-good.js';

const rec = (specHash: string, status: ComponentState['status'] = 'deployed'): ComponentState => ({
  kind: 'MicroService',
  target: 'local',
  specHash,
  inputsHash: specHash,
  spec: {},
  outputs: {},
  dependsOn: [],
  pulumiStack: 'p',
  status,
  deploymentId: 'd',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/** Writes a run as the executor does: one version per component, then its mark (naming its serial, unless `named` is false). */
async function run(
  store: MemoryStateStore,
  from: StackState,
  id: string,
  components: Record<string, ComponentState>,
  mark: Partial<RunMark> = {},
  named = true,
): Promise<StackState> {
  let s = from;
  for (const [cid, c] of Object.entries(components)) s = await store.write({ ...s, components: { ...s.components, [cid]: c } });
  return store.write({
    ...s,
    lastRun: { id, operation: 'apply', ok: true, finishedAt: 'then', ...(named ? { serial: s.serial + 1 } : {}), ...mark },
  });
}

describe('rollback --last-good', () => {
  it('after a good v2, goes back to v1: the version the previous good run ended with', async () => {
    const store = new MemoryStateStore();
    const v1 = await run(store, emptyState('s', 'e'), 'run-1', { 'web/api': rec('v1'), 'web/db': rec('db1') });
    const v2 = await run(store, v1, 'run-2', { 'web/api': rec('v2') });
    expect(await lastGoodSerial(store, v2)).toBe(v1.serial);
  });

  it('after a failed v2 left in place (rollback: manual), goes back to v1', async () => {
    const store = new MemoryStateStore();
    const v1 = await run(store, emptyState('s', 'e'), 'run-1', { 'web/api': rec('v1') });
    // A failed update keeps the recorded spec, marked failed: not the same as v1 deployed.
    const failed = await run(store, v1, 'run-2', { 'web/api': rec('v1', 'failed') }, { ok: false });
    expect(await lastGoodSerial(store, failed)).toBe(v1.serial);
  });

  it('with only one good version, finds none', async () => {
    const store = new MemoryStateStore();
    const v1 = await run(store, emptyState('s', 'e'), 'run-1', { 'web/api': rec('v1') });
    expect(await lastGoodSerial(store, v1)).toBeUndefined();
    const again = await run(store, v1, 'run-2', {}, {});
    expect(await lastGoodSerial(store, again)).toBeUndefined(); // the same components, under a newer serial
  });

  it('skips runs that failed, were rolled back, or were undone by a rollback since', async () => {
    const store = new MemoryStateStore();
    const v1 = await run(store, emptyState('s', 'e'), 'run-1', { 'web/api': rec('v1') });
    const v2 = await run(store, v1, 'run-2', { 'web/api': rec('v2') });
    const bad = await run(store, v2, 'run-3', { 'web/api': rec('v3', 'failed') }, { ok: false, rolledBack: true });
    expect(await lastGoodSerial(store, bad)).toBe(v2.serial);
    // A rollback to v1 undoes v2: going back again from there finds nothing older that is good and different.
    const back = await run(store, bad, 'run-4', { 'web/api': rec('v1') }, { operation: 'rollback', restored: v1.serial });
    expect(await lastGoodSerial(store, back)).toBeUndefined();
    // A new good v4 after that: last good is the rollback's result (v1), not the undone v2.
    const v4 = await run(store, back, 'run-5', { 'web/api': rec('v4') });
    expect(await lastGoodSerial(store, v4)).toBe(back.serial);
  });

  it.each([true, false])(
    "never takes the next run's work in progress for a run's end when that end cannot be read (marks naming their serial: %s)",
    async (named) => {
      const store = new MemoryStateStore();
      const one = await run(store, emptyState('s', 'e'), 'run-1', { 'web/a': rec('a1'), 'web/b': rec('b1') }, {}, named);
      const two = await run(store, one, 'run-2', { 'web/a': rec('a2'), 'web/b': rec('b2') }, {}, named);
      const three = await run(store, two, 'run-3', { 'web/a': rec('a3'), 'web/b': rec('b3') }, {}, named);
      // Run 2's end is damaged (or pruned): the version after it holds a3 with b2, which never ran.
      await store.objects.put(`stacks/s/e/history/${two.serial}.json`, '{"damaged');
      expect(await lastGoodSerial(store, three)).toBe(one.serial);
    },
  );
});
