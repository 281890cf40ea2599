/** mergeOverlay: how an environment overlay changes a base document (Kustomize-style). */
import { describe, expect, it } from 'vitest';
import { mergeOverlay } from './overlay.js';

describe('mergeOverlay', () => {
  it('deep-merges maps: keys of the overlay win, other keys of the base stay', () => {
    const base = { port: 80, env: { A: '1', B: '2' }, healthCheck: { path: '/healthz', interval: 5 } };
    const overlay = { port: 81, env: { B: 'two', C: '3' }, healthCheck: { interval: 10 } };
    expect(mergeOverlay(base, overlay)).toEqual({
      port: 81,
      env: { A: '1', B: 'two', C: '3' },
      healthCheck: { path: '/healthz', interval: 10 },
    });
  });

  it('replaces lists of scalars instead of appending to them', () => {
    expect(mergeOverlay({ command: ['node', 'a.mjs', '--x'] }, { command: ['node', 'b.mjs'] })).toEqual({ command: ['node', 'b.mjs'] });
  });

  it('merges lists whose items all have a name, item by item, and appends new names', () => {
    const base = {
      containers: [
        { name: 'app', image: 'app:1', env: { A: '1' } },
        { name: 'sidecar', image: 'proxy:1' },
      ],
    };
    const overlay = {
      containers: [
        { name: 'sidecar', image: 'proxy:2' },
        { name: 'app', env: { B: '2' } },
        { name: 'metrics', image: 'metrics:1' },
      ],
    };
    expect(mergeOverlay(base, overlay)).toEqual({
      containers: [
        { name: 'app', image: 'app:1', env: { A: '1', B: '2' } },
        { name: 'sidecar', image: 'proxy:2' },
        { name: 'metrics', image: 'metrics:1' },
      ],
    });
  });

  it('replaces a list when not every item has a name', () => {
    const base = {
      items: [
        { name: 'a', v: 1 },
        { name: 'b', v: 2 },
      ],
    };
    expect(mergeOverlay(base, { items: [{ name: 'a', v: 9 }, { v: 3 }] })).toEqual({ items: [{ name: 'a', v: 9 }, { v: 3 }] });
  });

  it('removes a key whose overlay value is {$patch: delete}', () => {
    expect(mergeOverlay({ env: { A: '1', B: '2' }, port: 80 }, { env: { A: { $patch: 'delete' } } })).toEqual({
      env: { B: '2' },
      port: 80,
    });
    expect(mergeOverlay({ env: { A: '1' }, port: 80 }, { env: { $patch: 'delete' } })).toEqual({ port: 80 });
  });

  it('removes a named list item marked $patch: delete', () => {
    const base = { containers: [{ name: 'app' }, { name: 'sidecar' }, { name: 'debug' }] };
    expect(mergeOverlay(base, { containers: [{ name: 'debug', $patch: 'delete' }] })).toEqual({
      containers: [{ name: 'app' }, { name: 'sidecar' }],
    });
  });

  it('drops $patch markers that have nothing to act on', () => {
    // A delete of a key the base does not have is a no-op; markers inside new values vanish.
    const out = mergeOverlay(
      { port: 80 },
      { gone: { $patch: 'delete' }, env: { A: '1', B: { $patch: 'delete' } }, list: [{ name: 'x', $patch: 'delete' }, 'y'] },
    );
    expect(out).toEqual({ port: 80, env: { A: '1' }, list: ['y'] });
  });

  it('lets an overlay change the type of a value', () => {
    expect(mergeOverlay({ env: { A: '1' } }, { env: 'none' })).toEqual({ env: 'none' });
    expect(mergeOverlay({ port: 80 }, { port: { valueFrom: { component: 'a/b', output: 'port' } } })).toEqual({
      port: { valueFrom: { component: 'a/b', output: 'port' } },
    });
  });

  it('modifies neither the base nor the overlay', () => {
    const base = { env: { A: '1' }, containers: [{ name: 'app', image: 'app:1' }] };
    const overlay = { env: { B: '2' }, containers: [{ name: 'app', image: 'app:2' }] };
    const before = JSON.stringify([base, overlay]);
    mergeOverlay(base, overlay);
    expect(JSON.stringify([base, overlay])).toBe(before);
  });
});
