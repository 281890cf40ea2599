import { describe, expect, it } from 'vitest';
import { schedule, UpstreamFailed, type NodeOutcome, type ScheduleOptions } from './scheduler.js';

/** A promise the test settles by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/**
 * A graph given as `{ node: [deps] }` whose nodes run `behaviour(id)` (default: succeed after a
 * tick). Records `start:X` / `end:X` events and how many nodes ran at once.
 */
function harness(graph: Record<string, string[]>, behaviour: (id: string) => Promise<void> = tick) {
  const events: string[] = [];
  const started: string[] = [];
  const finished: NodeOutcome[] = [];
  let running = 0;
  let maxRunning = 0;
  const options = (over: Partial<ScheduleOptions> = {}): ScheduleOptions => ({
    nodes: Object.keys(graph),
    dependenciesOf: (id) => graph[id] ?? [],
    concurrency: 4,
    run: async (id) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      events.push(`start:${id}`);
      try {
        await behaviour(id);
      } finally {
        running--;
        events.push(`end:${id}`);
      }
    },
    onStart: (id) => started.push(id),
    onFinish: (o) => finished.push(o),
    ...over,
  });
  return { events, started, finished, options, maxRunning: () => maxRunning };
}

function statuses(outcomes: Map<string, NodeOutcome>): Record<string, string> {
  return Object.fromEntries([...outcomes].map(([id, o]) => [id, o.status]).sort());
}

const boom = (id: string): Error => new Error(`${id} exploded`);

describe('schedule', () => {
  it('starts a node as soon as its own dependencies succeeded, not when a whole wave is done', async () => {
    // Waves would be {slow, fast} then {after-fast}: after-fast would wait for slow.
    const cStarted = deferred();
    const h = harness({ slow: [], fast: [], 'after-fast': ['fast'] }, async (id) => {
      if (id === 'after-fast') cStarted.resolve();
      if (id === 'slow') {
        // Finishes once after-fast has started (or, if the walker were wave-based, on its own).
        await Promise.race([cStarted.promise, new Promise((r) => setTimeout(r, 2_000))]);
      }
      await tick();
    });
    const outcomes = await schedule(h.options());
    expect(statuses(outcomes)).toEqual({ 'after-fast': 'succeeded', fast: 'succeeded', slow: 'succeeded' });
    expect(h.events.indexOf('start:after-fast')).toBeLessThan(h.events.indexOf('end:slow'));
    expect(h.events.indexOf('start:after-fast')).toBeGreaterThan(h.events.indexOf('end:fast'));
  });

  it('never starts a node before all of its dependencies have ended', async () => {
    const graph = { a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: [], f: ['e', 'd'] };
    const h = harness(graph, async () => {
      for (let i = 0; i < Math.floor(Math.random() * 4); i++) await tick();
    });
    const outcomes = await schedule(h.options({ concurrency: 3 }));
    expect(Object.values(statuses(outcomes))).toEqual(Array(6).fill('succeeded'));
    for (const [id, deps] of Object.entries(graph)) {
      for (const dep of deps) expect(h.events.indexOf(`end:${dep}`)).toBeLessThan(h.events.indexOf(`start:${id}`));
    }
  });

  it('never runs more nodes at once than the concurrency limit, and uses it', async () => {
    const graph: Record<string, string[]> = {};
    for (let i = 0; i < 20; i++) graph[`n${i}`] = i >= 10 ? [`n${i - 10}`] : [];
    const h = harness(graph, async () => {
      for (let i = 0; i < 1 + Math.floor(Math.random() * 3); i++) await tick();
    });
    const outcomes = await schedule(h.options({ concurrency: 3 }));
    expect(outcomes.size).toBe(20);
    expect(h.maxRunning()).toBe(3);
  });

  it('treats a concurrency below 1 as 1', async () => {
    const h = harness({ a: [], b: [], c: [] });
    await schedule(h.options({ concurrency: 0 }));
    expect(h.maxRunning()).toBe(1);
    expect(h.started).toEqual(['a', 'b', 'c']);
  });

  it('skips everything downstream of a failure, naming only the root cause, through a chain', async () => {
    const err = boom('a');
    const h = harness({ a: [], b: ['a'], c: ['b'], d: ['c'] }, async (id) => {
      if (id === 'a') throw err;
    });
    const outcomes = await schedule(h.options());
    expect(statuses(outcomes)).toEqual({ a: 'failed', b: 'skipped', c: 'skipped', d: 'skipped' });
    expect(outcomes.get('a')?.error).toBe(err);
    for (const id of ['b', 'c', 'd']) expect(outcomes.get(id)?.causes).toEqual(['a']);
    expect(h.started).toEqual(['a']);
  });

  it('names the root cause once through a diamond, and still runs unrelated branches', async () => {
    const h = harness(
      { root: [], left: ['root'], right: ['root'], join: ['left', 'right'], tail: ['join'], other: [], 'other-next': ['other'] },
      async (id) => {
        if (id === 'root') throw boom(id);
      },
    );
    const outcomes = await schedule(h.options());
    expect(statuses(outcomes)).toEqual({
      join: 'skipped',
      left: 'skipped',
      other: 'succeeded',
      'other-next': 'succeeded',
      right: 'skipped',
      root: 'failed',
      tail: 'skipped',
    });
    for (const id of ['left', 'right', 'join', 'tail']) expect(outcomes.get(id)?.causes).toEqual(['root']);
    expect(outcomes.get('other')?.causes).toBeUndefined();
  });

  it('names every failed root, and no skipped node, when several failures meet downstream', async () => {
    // p fails first; q (which needs mid, an ancestor that succeeded) fails later.
    const pFailed = deferred();
    const h = harness({ p: [], mid: [], q: ['mid'], x: ['p', 'q'], y: ['x'], z: ['y'] }, async (id) => {
      if (id === 'p') {
        pFailed.resolve();
        throw boom(id);
      }
      if (id === 'q') {
        await pFailed.promise;
        await tick();
        throw boom(id);
      }
    });
    const outcomes = await schedule(h.options());
    expect(statuses(outcomes)).toEqual({ mid: 'succeeded', p: 'failed', q: 'failed', x: 'skipped', y: 'skipped', z: 'skipped' });
    for (const id of ['x', 'y', 'z']) expect([...(outcomes.get(id)?.causes ?? [])].sort()).toEqual(['p', 'q']);
  });

  it('with failFast, starts nothing new after a failure: the running node finishes, the rest is cancelled', async () => {
    const bRunning = deferred();
    const h = harness({ a: [], b: [], c: [], d: ['a'], e: ['c'], f: ['b'] }, async (id) => {
      if (id === 'b') bRunning.resolve();
      if (id === 'a') {
        await bRunning.promise;
        throw boom(id);
      }
      if (id === 'b') for (let i = 0; i < 5; i++) await tick();
    });
    const outcomes = await schedule(h.options({ concurrency: 2, failFast: true }));
    expect(statuses(outcomes)).toEqual({ a: 'failed', b: 'succeeded', c: 'cancelled', d: 'skipped', e: 'cancelled', f: 'cancelled' });
    expect(outcomes.get('d')?.causes).toEqual(['a']);
    expect(h.started).toEqual(['a', 'b']);
  });

  it('starts the ready node with the longest path ahead first (critical path first)', async () => {
    // x heads a chain of three; y and z are leaves. With one slot, x goes first although it comes
    // last, then x2 (two steps ahead); x3, y and z tie (one step) and keep their order.
    const h = harness({ y: [], z: [], x: [], x2: ['x'], x3: ['x2'] });
    await schedule(h.options({ concurrency: 1 }));
    expect(h.started).toEqual(['x', 'x2', 'y', 'z', 'x3']);
    // Weights (e.g. the durations of the last run) outweigh the number of steps.
    const w = harness({ y: [], z: [], x: [], x2: ['x'] });
    await schedule(w.options({ concurrency: 1, weight: (id: string) => (id === 'z' ? 100 : 1) }));
    expect(w.started).toEqual(['z', 'x', 'y', 'x2']);
  });

  it('without failFast, keeps starting unrelated nodes after a failure', async () => {
    const h = harness({ a: [], b: [], c: [], d: ['a'], e: ['c'] }, async (id) => {
      if (id === 'a') throw boom(id);
    });
    const outcomes = await schedule(h.options({ concurrency: 1 }));
    expect(statuses(outcomes)).toEqual({ a: 'failed', b: 'succeeded', c: 'succeeded', d: 'skipped', e: 'succeeded' });
  });

  it('when stopped, lets running nodes finish and cancels the rest', async () => {
    const stop = new AbortController();
    const release = deferred();
    let runningCount = 0;
    const h = harness({ a: [], b: [], c: [], d: ['a'], e: ['d'] }, async () => {
      if (++runningCount === 2) stop.abort();
      await release.promise;
    });
    const done = schedule(h.options({ concurrency: 2, stop: stop.signal }));
    await tick();
    release.resolve();
    const outcomes = await done;
    expect(statuses(outcomes)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'cancelled', d: 'cancelled', e: 'cancelled' });
    expect(h.started).toEqual(['a', 'b']);
    expect(h.events.filter((e) => e.startsWith('end:'))).toEqual(['end:a', 'end:b']);
  });

  it('starts nothing when stopped before it begins', async () => {
    const stop = new AbortController();
    stop.abort();
    const h = harness({ a: [], b: ['a'] });
    const outcomes = await schedule(h.options({ stop: stop.signal }));
    expect(statuses(outcomes)).toEqual({ a: 'cancelled', b: 'cancelled' });
    expect(h.started).toEqual([]);
  });

  it('calls onStart once per started node and onFinish exactly once per node', async () => {
    const h = harness({ a: [], b: ['a'], c: ['b'], d: [], e: ['d'], f: ['c', 'e'], g: [] }, async (id) => {
      if (id === 'a' || id === 'd') throw boom(id);
    });
    const outcomes = await schedule(h.options({ concurrency: 2 }));
    expect([...h.started].sort()).toEqual(['a', 'd', 'g']);
    expect(h.finished.map((o) => o.id).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    for (const o of h.finished) expect(outcomes.get(o.id)).toBe(o);
    expect([...(outcomes.get('f')?.causes ?? [])].sort()).toEqual(['a', 'd']);
    for (const id of ['a', 'd', 'g']) {
      const o = outcomes.get(id)!;
      expect(o.startedAt).toBeTypeOf('number');
      expect(o.endedAt!).toBeGreaterThanOrEqual(o.startedAt!);
    }
  });

  it('ignores dependencies outside the node set and on the node itself', async () => {
    const h = harness({ a: ['not-in-this-run', 'a'], b: ['a'] });
    const outcomes = await schedule(h.options());
    expect(statuses(outcomes)).toEqual({ a: 'succeeded', b: 'succeeded' });
  });

  it('cancels nodes that can never start because they form a cycle', async () => {
    const h = harness({ a: [], b: ['c'], c: ['b'] });
    const outcomes = await schedule(h.options());
    expect(statuses(outcomes)).toEqual({ a: 'succeeded', b: 'cancelled', c: 'cancelled' });
  });

  it('returns at once for an empty graph', async () => {
    const outcomes = await schedule(harness({}).options());
    expect(outcomes.size).toBe(0);
  });
});

describe('schedule: nodes that start early (deletes an engine orders itself)', () => {
  it('starts an early node once its dependencies have started, and it still ends after them', async () => {
    const gate = deferred();
    const h = harness({ a: [], b: ['a'], c: ['b'] }, async (id) => {
      if (id === 'a') await gate.promise;
    });
    const walk = schedule(h.options({ startsEarly: () => true }));
    await tick();
    expect(h.started).toEqual(['a', 'b', 'c']); // all handed over while a runs
    gate.resolve();
    expect(statuses(await walk)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'succeeded' });
  });

  it('an early node whose run gives up behind a failure is skipped, naming the root cause', async () => {
    const aFails = deferred();
    const h = harness({ a: [], b: ['a'], c: ['b'], other: [] }, async (id) => {
      if (id === 'a') {
        await aFails.promise.catch(() => undefined);
        throw boom('a');
      }
      // b and c wait on what comes before them, as the engine does, and give up behind it.
      if (id !== 'other') throw new UpstreamFailed(id);
    });
    const walk = schedule(h.options({ startsEarly: (id) => id !== 'other' }));
    await tick();
    aFails.reject(boom('a'));
    const outcomes = await walk;
    expect(statuses(outcomes)).toEqual({ a: 'failed', b: 'skipped', c: 'skipped', other: 'succeeded' });
    expect(outcomes.get('b')?.causes).toEqual(['a']);
    expect(outcomes.get('c')?.causes).toEqual(['a']);
  });

  it('an early node not started yet when a dependency fails is skipped without running', async () => {
    const h = harness({ a: [], b: ['a'] }, async (id) => {
      if (id === 'a') throw boom('a');
    });
    const outcomes = await schedule(h.options({ concurrency: 1, startsEarly: (id) => id === 'b' }));
    expect(statuses(outcomes)).toEqual({ a: 'failed', b: 'skipped' });
    expect(h.events).not.toContain('start:b');
  });
});

describe('schedule: barrier waves', () => {
  it('starts a wave only when every node of the waves before it has finished', async () => {
    // a(slow) -> b ; c(fast) -> d. In graph mode d starts before a ends; in waves mode it waits.
    const deps: Record<string, string[]> = { a: [], c: [], b: ['a'], d: ['c'] };
    const order = async (mode: 'graph' | 'waves'): Promise<string[]> => {
      const events: string[] = [];
      const gates = new Map<string, () => void>();
      await schedule({
        nodes: Object.keys(deps),
        dependenciesOf: (id) => deps[id]!,
        concurrency: 4,
        mode,
        run: (id) =>
          new Promise<void>((resolve) => {
            events.push(`start ${id}`);
            if (id === 'a') gates.set('a', resolve);
            else {
              events.push(`end ${id}`);
              // Let a finish only after c's dependents had their chance to start.
              setImmediate(() => {
                if (id === 'd' || id === 'c') setImmediate(() => gates.get('a')?.());
                resolve();
              });
            }
          }).then(() => {
            if (id === 'a') events.push('end a');
          }),
      });
      return events;
    };
    const graph = await order('graph');
    expect(graph.indexOf('start d')).toBeLessThan(graph.indexOf('end a'));
    const waves = await order('waves');
    expect(waves.indexOf('start d')).toBeGreaterThan(waves.indexOf('end a'));
    expect(waves.indexOf('start b')).toBeGreaterThan(waves.indexOf('end a'));
  });

  it('ends, cancelling what can never start, when recorded dependencies form a cycle (in either mode)', async () => {
    // A state pushed by hand can record b <-> c; the walk must end rather than wait for them.
    // In waves mode e and f (depths 2, 3) wait for wave 1, which holds c: they can never start, and are cancelled.
    for (const mode of ['graph', 'waves'] as const) {
      const h = harness({ a: [], b: ['c'], c: ['b'], d: ['a'], e: ['d'], f: ['e'] });
      const outcomes = await schedule(h.options({ mode }));
      const later = mode === 'graph' ? 'succeeded' : 'cancelled';
      expect(statuses(outcomes)).toEqual({ a: 'succeeded', b: 'cancelled', c: 'cancelled', d: 'succeeded', e: later, f: later });
      expect(h.started).not.toContain('b');
    }
  });
});
