/**
 * The run's state writer: components that finish together are recorded by one write (group
 * commit), and each caller learns of its change only once a stored version holds it.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ComponentState } from '../model/state.js';
import { emptyState } from '../state/index.js';
import { MemoryStateStore } from '../state/memory.js';
import { exclusiveWriter } from './state-writer.js';

const entry = (id: string): ComponentState => ({ pulumiStack: id, status: 'deployed' }) as unknown as ComponentState;

describe('state writer', () => {
  it('records the components that finish in the same turn in one write, each resolving once it is stored', async () => {
    const store = new MemoryStateStore();
    const base = await store.write(emptyState('shop', 'dev'));
    const writes = vi.spyOn(store, 'write');
    const writer = exclusiveWriter(store, base);
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const stored = await Promise.all(ids.map((id) => writer.commit((components) => void (components[id] = entry(id)))));
    expect(writes).toHaveBeenCalledTimes(1);
    for (const s of stored) expect(Object.keys(s.components).sort()).toEqual(ids);
    expect(Object.keys((await store.read('shop', 'dev'))!.components).sort()).toEqual(ids);
  });

  it('a change that arrives during a write goes into the next one, in order, and flush waits for both', async () => {
    const store = new MemoryStateStore();
    const base = await store.write(emptyState('shop', 'dev'));
    const writer = exclusiveWriter(store, base);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const write = store.write.bind(store);
    const writes = vi.spyOn(store, 'write').mockImplementation(async (s) => {
      if (writes.mock.calls.length === 1) await gate; // the first write is still in progress
      return write(s);
    });
    const first = writer.commit((components) => void (components['a'] = entry('a')));
    await vi.waitFor(() => expect(writes).toHaveBeenCalledTimes(1));
    const second = writer.commit((components) => {
      expect(components['a']).toBeDefined(); // applied on top of the first
      components['b'] = entry('b');
    });
    release();
    const last = await writer.flush();
    expect(Object.keys(last.components).sort()).toEqual(['a', 'b']);
    expect((await first).serial).toBeLessThan((await second).serial);
    expect(writes).toHaveBeenCalledTimes(2);
  });

  it('a change that throws fails its own caller only', async () => {
    const store = new MemoryStateStore();
    const writer = exclusiveWriter(store, await store.write(emptyState('shop', 'dev')));
    const good = writer.commit((components) => void (components['a'] = entry('a')));
    const bad = writer.commit(() => {
      throw new Error('boom');
    });
    await expect(bad).rejects.toThrow('boom');
    expect(Object.keys((await good).components)).toEqual(['a']);
  });
});
