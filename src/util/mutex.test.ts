import { describe, expect, it } from 'vitest';
import { Mutex, Semaphore } from './mutex.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

describe('Mutex', () => {
  it('runs callers one at a time, in the order they arrived', async () => {
    const mutex = new Mutex();
    const events: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const results = await Promise.all(
      [3, 0, 2, 1, 0].map((ticks, i) =>
        mutex.run(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          events.push(`enter ${i}`);
          for (let t = 0; t < ticks; t++) await tick();
          events.push(`leave ${i}`);
          inside--;
          return i * 10;
        }),
      ),
    );
    expect(results).toEqual([0, 10, 20, 30, 40]);
    expect(maxInside).toBe(1);
    expect(events).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`enter ${i}`, `leave ${i}`]));
  });

  it('hands a rejection to its caller and carries on with the next one', async () => {
    const mutex = new Mutex();
    const order: string[] = [];
    const failing = mutex.run(async () => {
      order.push('first');
      await tick();
      throw new Error('first failed');
    });
    const next = mutex.run(async () => {
      order.push('second');
      return 'second ran';
    });
    await expect(failing).rejects.toThrow('first failed');
    await expect(next).resolves.toBe('second ran');
    await expect(mutex.run(async () => 'third ran')).resolves.toBe('third ran');
    expect(order).toEqual(['first', 'second']);
  });

  it('does not start a caller before the previous one has settled, even a slow rejection', async () => {
    const mutex = new Mutex();
    let firstSettled = false;
    const first = mutex.run(async () => {
      for (let t = 0; t < 3; t++) await tick();
      firstSettled = true;
      throw new Error('late failure');
    });
    const seen = mutex.run(async () => firstSettled);
    await expect(first).rejects.toThrow('late failure');
    expect(await seen).toBe(true);
  });

  it('keeps separate mutexes independent', async () => {
    const a = new Mutex();
    const b = new Mutex();
    let release!: () => void;
    const blocked = a.run(() => new Promise<void>((r) => (release = r)));
    await expect(b.run(async () => 'b is free')).resolves.toBe('b is free');
    release();
    await blocked;
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` callers at once, the others in arrival order, and frees a slot on failure', async () => {
    const semaphore = new Semaphore(2);
    const started: number[] = [];
    let inside = 0;
    let maxInside = 0;
    const results = await Promise.allSettled(
      [2, 0, 1, 0, 1].map((ticks, i) =>
        semaphore.run(async () => {
          started.push(i);
          inside++;
          maxInside = Math.max(maxInside, inside);
          for (let t = 0; t < ticks; t++) await tick();
          inside--;
          if (i === 1) throw new Error('boom');
          return i;
        }),
      ),
    );
    expect(maxInside).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  });
});
