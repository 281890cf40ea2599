import { describe, expect, it } from 'vitest';
import { DestroyBlockedError } from '../errors.js';
import { DestroyOrder } from './destroy-order.js';

describe('DestroyOrder', () => {
  it('lets a destroy go once those it follows have succeeded, whichever started first', async () => {
    const order = new DestroyOrder();
    const done: string[] = [];
    const base = order.track('base', async () => {
      await order.waitFor('base', ['web', 'api']);
      done.push('base');
    });
    await order.track('web', async () => void done.push('web'));
    await order.track('api', async () => void done.push('api'));
    await base;
    expect(done).toEqual(['web', 'api', 'base']);
  });

  it('blocks a destroy behind one that failed, naming it, and what is behind that in turn', async () => {
    const order = new DestroyOrder();
    await expect(order.track('web', () => Promise.reject(new Error('bucket not empty')))).rejects.toThrow('bucket not empty');
    const base = order.track('base', () => order.waitFor('base', ['web']));
    await expect(base).rejects.toBeInstanceOf(DestroyBlockedError);
    await expect(base).rejects.toThrow(/base was not destroyed: web, which depend on it/);
    await expect(order.waitFor('network', ['base'])).rejects.toThrow(/network was not destroyed: base/);
  });

  it('a stack destroyed again: those behind it follow the new destroy, not the one that failed', async () => {
    const order = new DestroyOrder();
    await expect(order.track('web', () => Promise.reject(new Error('bucket not empty')))).rejects.toThrow();
    let retried!: () => void;
    const retry = order.track('web', () => new Promise<void>((r) => (retried = r)));
    const base = order.waitFor('base', ['web']);
    retried();
    await retry;
    await expect(base).resolves.toBeUndefined();
  });

  it('a destroy handed over early does not start once the run is told to stop', async () => {
    const order = new DestroyOrder();
    const stop = new AbortController();
    await order.track('web', async () => void stop.abort());
    await expect(order.waitFor('base', ['web'], stop.signal)).rejects.toThrow(/base was not destroyed: the run stopped before it started/);
    await expect(order.waitFor('web', [], stop.signal)).resolves.toBeUndefined(); // started by the run itself
  });
});
