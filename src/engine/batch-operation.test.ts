/**
 * The gatherer in front of batched operations: operations the executor starts together leave
 * as one batch, and those that arrive while every slot is busy join the next one (fake timers:
 * nothing here waits on the clock).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Gatherer, SHARE_OUT_FROM, shareOut, type BatchMember } from './batch-operation.js';

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

describe('shareOut', () => {
  const entries = (count: number, kind: BatchMember['kind'] = 'up') =>
    Array.from({ length: count }, (_, i) => ({ m: { ...member(`s${i}`), kind } }));
  const sizes = (parts: Array<Array<{ m: BatchMember }>>): number[] => parts.map((p) => p.length);

  it('keeps a group below SHARE_OUT_FROM whole: one operation', () => {
    expect(sizes(shareOut(entries(SHARE_OUT_FROM - 1), 2))).toEqual([SHARE_OUT_FROM - 1]);
    expect(shareOut([], 2)).toEqual([]);
  });

  it('shares a large group of deployments out among the operations the machine runs at once, each member in exactly one', () => {
    const group = entries(198);
    const parts = shareOut(group, 2);
    expect(sizes(parts)).toEqual([99, 99]);
    expect(parts.flat()).toEqual(group);
    expect(sizes(shareOut(entries(200), 3))).toEqual([67, 67, 66]);
  });

  it('keeps a large group whole when one operation runs at a time, or when it destroys (their order lives inside one operation)', () => {
    expect(sizes(shareOut(entries(198), 1))).toEqual([198]);
    const withDestroy = [...entries(100), { m: { ...member('gone'), kind: 'destroy' as const } }];
    expect(sizes(shareOut(withDestroy, 2))).toEqual([101]);
  });
});
