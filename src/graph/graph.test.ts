/** buildGraph: the dependency DAG of a stack's components, its order, waves and cycles. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import type { DesiredComponent } from '../model/desired.js';
import { buildGraph } from './index.js';

type Deps = Record<string, string[]>;

const nodes = (deps: Deps): Array<{ id: string; dependsOn: string[] }> =>
  Object.entries(deps).map(([id, dependsOn]) => ({ id, dependsOn }));

/** A minimal component, enough for edge kinds and error locations. */
function component(id: string, dependsOn: string[], references: string[] = []): DesiredComponent {
  const [service, name] = id.split('/') as [string, string];
  return {
    id,
    service,
    name,
    kind: 'MicroService',
    target: 'local',
    spec: { port: 80 },
    dependsOn,
    references: references.map((r) => ({ path: `/env/${r.replace('/', '_').toUpperCase()}`, component: r, output: 'url' })),
    baseDir: '/stack',
    source: { file: `/stack/services/${service}/${name}.yaml`, display: `services/${service}/${name}.yaml`, docIndex: 0 },
    specHash: `hash-${id}`,
  };
}

// The shop: a database first, then the api and the bucket-dependent worker, then the front end.
const SHOP: Deps = {
  'web/frontend': ['web/api'],
  'web/api': ['data/db'],
  'jobs/worker': ['data/db', 'data/files'],
  'data/files': [],
  'data/db': [],
};

describe('buildGraph: order and waves', () => {
  it('orders dependencies before their dependents, ties broken by id', () => {
    const g = buildGraph(nodes(SHOP));
    expect(g.order).toEqual(['data/db', 'data/files', 'jobs/worker', 'web/api', 'web/frontend']);
  });

  it('gives the same order whatever order the nodes come in', () => {
    const reversed = nodes(SHOP).reverse();
    expect(buildGraph(reversed).order).toEqual(buildGraph(nodes(SHOP)).order);
    expect(buildGraph(reversed).waves).toEqual(buildGraph(nodes(SHOP)).waves);
  });

  it('puts a node before an alphabetically earlier node that depends on it', () => {
    expect(buildGraph(nodes({ 'a/app': ['z/db'], 'z/db': [] })).order).toEqual(['z/db', 'a/app']);
  });

  it('layers nodes into waves by their longest chain of dependencies', () => {
    const g = buildGraph(nodes(SHOP));
    expect(g.waves).toEqual([['data/db', 'data/files'], ['jobs/worker', 'web/api'], ['web/frontend']]);
  });

  it('places a node after the longest of its chains, not the shortest', () => {
    // d needs a directly and through b -> c: it must wait for c (wave 2) and lands in wave 3.
    const g = buildGraph(nodes({ a: [], b: ['a'], c: ['b'], d: ['a', 'c'] }));
    expect(g.waves).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('puts independent nodes together in wave 0', () => {
    const g = buildGraph(nodes({ c: [], a: [], b: [] }));
    expect(g.order).toEqual(['a', 'b', 'c']);
    expect(g.waves).toEqual([['a', 'b', 'c']]);
  });

  it('is empty for no nodes', () => {
    const g = buildGraph([]);
    expect([g.nodes, g.order, g.waves, g.edges()]).toEqual([[], [], [], []]);
  });
});

describe('buildGraph: edges', () => {
  it('answers what a node needs and what needs it, sorted', () => {
    const g = buildGraph(nodes(SHOP));
    expect(g.dependenciesOf('jobs/worker')).toEqual(['data/db', 'data/files']);
    expect(g.dependentsOf('data/db')).toEqual(['jobs/worker', 'web/api']);
    expect(g.dependenciesOf('data/db')).toEqual([]);
    expect(g.dependentsOf('web/frontend')).toEqual([]);
  });

  it('marks edges from valueFrom references implicit and dependsOn edges explicit', () => {
    const components = new Map([
      ['data/db', component('data/db', [])],
      ['data/files', component('data/files', [])],
      ['web/api', component('web/api', ['data/db', 'data/files'], ['data/db'])],
    ]);
    const g = buildGraph(components.values(), (id) => components.get(id));
    const edges = g.edges().sort((x, y) => x.from.localeCompare(y.from) || x.to.localeCompare(y.to));
    expect(edges).toEqual([
      { from: 'data/db', to: 'web/api', kind: 'implicit' },
      { from: 'data/files', to: 'web/api', kind: 'explicit' },
    ]);
  });

  it('treats every edge as explicit when no component description is given', () => {
    expect(buildGraph(nodes({ a: [], b: ['a'] })).edges()).toEqual([{ from: 'a', to: 'b', kind: 'explicit' }]);
  });

  it('ignores dependencies on nodes outside the set it was given', () => {
    // Planning a subset: web/api's dependency data/db is not part of it.
    const g = buildGraph(nodes({ 'web/api': ['data/db'], 'web/frontend': ['web/api'] }));
    expect(g.nodes).toEqual(['web/api', 'web/frontend']);
    expect(g.dependenciesOf('web/api')).toEqual([]);
    expect(g.order).toEqual(['web/api', 'web/frontend']);
    expect(g.waves).toEqual([['web/api'], ['web/frontend']]);
    expect(g.edges()).toEqual([{ from: 'web/api', to: 'web/frontend', kind: 'explicit' }]);
  });
});

describe('buildGraph: cycles', () => {
  const cycleError = (run: () => unknown): ValidationError => {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return err as ValidationError;
    }
    throw new Error('expected a ValidationError');
  };

  it('rejects a cycle and names its path, following dependsOn', () => {
    // a needs b, b needs c, c needs a.
    const err = cycleError(() => buildGraph(nodes({ a: ['b'], b: ['c'], c: ['a'] })));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.problems.map((p) => [p.message, p.rule, p.path])).toEqual([
      ['dependency cycle: a -> b -> c -> a', 'cycle', '/spec/dependsOn'],
    ]);
  });

  it('names the cycle only, not the nodes around it, and locates it at the first component of the cycle', () => {
    const deps: Deps = {
      'web/frontend': ['web/api'],
      'web/api': ['data/db', 'jobs/queue'],
      'jobs/queue': ['jobs/worker'],
      'jobs/worker': ['web/api'],
      'data/db': [],
    };
    const components = new Map(Object.entries(deps).map(([id, d]) => [id, component(id, d)]));
    // Where a component's dependsOn was written, as discovery's locator would say.
    const locate = (id: string, pointer: string) => ({
      file: components.get(id)!.source.display,
      line: 2,
      col: pointer === '/spec/dependsOn' ? 1 : 0,
    });
    const err = cycleError(() => buildGraph(components.values(), (id) => components.get(id), locate));
    expect(err.problems).toEqual([
      {
        location: { file: 'services/jobs/queue.yaml', line: 2, col: 1 },
        document: 'MicroService/queue',
        path: '/spec/dependsOn',
        message: 'dependency cycle: jobs/queue -> jobs/worker -> web/api -> jobs/queue',
        rule: 'cycle',
      },
    ]);
    expect(err.details).toEqual([
      'services/jobs/queue.yaml:2:1  MicroService/queue  /spec/dependsOn  dependency cycle: jobs/queue -> jobs/worker -> web/api -> jobs/queue (cycle)',
    ]);
  });

  it('rejects two components that need each other', () => {
    const err = cycleError(() => buildGraph(nodes({ 'x/b': ['x/a'], 'x/a': ['x/b'] })));
    expect(err.problems[0]!.message).toBe('dependency cycle: x/a -> x/b -> x/a');
  });

  it('does not mistake a diamond for a cycle', () => {
    expect(buildGraph(nodes({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] })).waves).toEqual([['a'], ['b', 'c'], ['d']]);
  });
});
