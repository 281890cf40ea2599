/**
 * The gatherer in front of batched operations: operations the executor starts together leave
 * as one batch, and those that arrive while every slot is busy join the next one (fake timers:
 * nothing here waits on the clock).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Gatherer, type BatchMember } from './batch-operation.js';

const member = (stackName: string): BatchMember => ({
  kind: 'up',
  o: { stackName, program: async () => ({}) },
  resolve: () => undefined,
  reject: () => undefined,
});
const names = (ms: BatchMember[]): string[] => ms.map((m) => m.o.stackName);

describe('Gatherer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('operations started together leave as one batch once no more arrive', async () => {
    const batches: string[][] = [];
    const g = new Gatherer(async (ms) => void batches.push(names(ms)), { slots: 2, quietMs: 50, maxWaitMs: 300 });
    g.add(member('a'));
    await vi.advanceTimersByTimeAsync(30);
    g.add(member('b'));
    g.add(member('c'));
    await vi.advanceTimersByTimeAsync(30);
    expect(batches).toEqual([]); // still arriving
    await vi.advanceTimersByTimeAsync(30);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('never waits longer than maxWaitMs for a batch that keeps growing', async () => {
    const batches: string[][] = [];
    const g = new Gatherer(async (ms) => void batches.push(names(ms)), { slots: 2, quietMs: 50, maxWaitMs: 120 });
    for (let i = 0; i < 5; i++) {
      g.add(member(`m${i}`));
      await vi.advanceTimersByTimeAsync(40);
    }
    expect(batches[0]).toEqual(['m0', 'm1', 'm2']);
  });

  it('arrivals while every slot is busy wait, then leave together', async () => {
    const batches: string[][] = [];
    let finish!: () => void;
    const g = new Gatherer(
      (ms) => {
        batches.push(names(ms));
        return batches.length === 1 ? new Promise<void>((r) => (finish = r)) : Promise.resolve();
      },
      { slots: 1, quietMs: 10, maxWaitMs: 100 },
    );
    g.add(member('first'));
    await vi.advanceTimersByTimeAsync(10);
    for (const n of ['x', 'y', 'z']) {
      g.add(member(n));
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(batches).toEqual([['first']]);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([['first'], ['x', 'y', 'z']]);
  });
});
