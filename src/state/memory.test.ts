import { describe, expect, it } from 'vitest';
import { emptyState } from './index.js';
import { MemoryStateStore } from './memory.js';
import { stateStoreContract, withComponent } from './store.contract.js';

stateStoreContract('memory', async () => {
  const store = new MemoryStateStore();
  return { store, blobs: store.objects, withClock: (now) => new MemoryStateStore(store.objects, { now }) };
});

describe('MemoryStateStore', () => {
  it('hands out copies: changing what it returned does not change what it stores', async () => {
    const store = new MemoryStateStore();
    const stored = await store.write(withComponent(emptyState('web', 'prod'), 'api'));
    const read = await store.read('web', 'prod');
    read!.components = {};
    read!.serial = 42;
    expect(await store.read('web', 'prod')).toEqual(stored);
  });

  it('keeps separate instances separate', async () => {
    const a = new MemoryStateStore();
    const b = new MemoryStateStore();
    await a.write(emptyState('web', 'prod'));
    expect(await b.read('web', 'prod')).toBeUndefined();
  });
});
