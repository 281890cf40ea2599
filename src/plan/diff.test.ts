/**
 * computePlan / computeDestroyPlan: pure functions of (desired, state, graph). Each scenario's
 * full plan is pinned as readable JSON in __snapshots__/<case>.plan.json.
 */
import { describe, expect, it } from 'vitest';
import { desiredStack } from '../../test/helpers/desired.js';
import { collectReferences } from '../discovery/references.js';
import { buildGraph } from '../graph/index.js';
import type { ComponentKind } from '../model/documents.js';
import type { DesiredComponent, DesiredStack } from '../model/desired.js';
import { hashOf } from '../model/hash.js';
import type { Plan } from '../model/plan.js';
import type { ComponentState, StackState } from '../model/state.js';
import { changedPaths, computeDestroyPlan, computePlan } from './diff.js';
import { inputsHash, resolveSpec } from './resolve.js';

// ---- builders --------------------------------------------------------------------------------

type Spec = Record<string, unknown>;
type Outputs = Record<string, Record<string, unknown>>;

function component(id: string, kind: ComponentKind, spec: Spec): DesiredComponent {
  const [service, name] = id.split('/') as [string, string];
  const references = collectReferences(spec);
  const own = Array.isArray(spec['dependsOn']) ? (spec['dependsOn'] as string[]) : [];
  const { dependsOn: _ignored, ...hashed } = spec;
  return {
    id,
    service,
    name,
    kind,
    target: 'local',
    spec,
    dependsOn: [...new Set([...own, ...references.map((r) => r.component)])].sort(),
    references,
    baseDir: `/stack/services/${service}`,
    source: { file: `/stack/services/${service}/${name}.yaml`, display: `services/${service}/${name}.yaml`, docIndex: 0 },
    specHash: hashOf({ kind, target: 'local', spec: hashed }),
  };
}

function stack(...components: DesiredComponent[]): DesiredStack {
  return desiredStack(components);
}

const valueFrom = (component: string, output: string): Spec => ({ valueFrom: { component, output } });

/** The state after `desired` was applied and its components produced `outputs`. */
function deployed(desired: DesiredStack, outputs: Outputs, extra: Record<string, ComponentState> = {}): StackState {
  const components: Record<string, ComponentState> = {};
  for (const c of desired.components.values()) {
    components[c.id] = {
      kind: c.kind,
      target: c.target,
      specHash: c.specHash,
      inputsHash: inputsHash(resolveSpec(c.spec, (id) => outputs[id]).spec),
      spec: c.spec,
      outputs: outputs[c.id] ?? {},
      dependsOn: c.dependsOn,
      pulumiStack: `shop-dev-${c.service}-${c.name}`,
      status: 'deployed',
      deploymentId: 'run-1',
      updatedAt: '2025-01-01T00:00:00.000Z',
    };
  }
  return { version: 1, lineage: 'lineage-1', serial: 7, stack: 'shop', environment: 'dev', components: { ...components, ...extra } };
}

/** A recorded component that is no longer in the configuration. */
function orphan(id: string, kind: ComponentKind, dependsOn: string[]): ComponentState {
  const c = component(id, kind, kind === 'S3' ? {} : { port: 9000 });
  return { ...deployed(stack(c), {}).components[id]!, dependsOn };
}

function plan(desired: DesiredStack, state: StackState | undefined): Plan {
  return computePlan(
    desired,
    state,
    buildGraph(desired.components.values(), (id) => desired.components.get(id)),
  );
}

const golden = (p: Plan, name: string): Promise<void> =>
  expect(JSON.stringify(p, null, 2) + '\n').toMatchFileSnapshot(`./__snapshots__/${name}.plan.json`);

const actionsOf = (p: Plan): string[] =>
  p.actions.map((a) => `${a.id} ${a.action} w${a.wave ?? '-'}: ${a.reason}${a.changes.length ? ` [${a.changes.join(' ')}]` : ''}`);

// ---- the stack under test --------------------------------------------------------------------

const FILES = component('data/files', 'S3', { versioning: true });
const DB = component('data/db', 'MicroService', { command: ['postgres'], port: 5432 });
const API = component('web/api', 'MicroService', {
  port: 8080,
  env: { GREETING: 'hi', FILES_DIR: valueFrom('data/files', 'path') },
  dependsOn: ['data/db'],
});
const FRONTEND = component('web/frontend', 'MicroService', { port: 3000, dependsOn: ['web/api'] });
const BASE = stack(FILES, DB, API, FRONTEND);
const OUTPUTS: Outputs = {
  'data/files': { path: '/var/files' },
  'data/db': { url: 'postgres://127.0.0.1:5432' },
  'web/api': { url: 'http://127.0.0.1:8080' },
  'web/frontend': { url: 'http://127.0.0.1:3000' },
};

describe('computePlan', () => {
  it('creates every component of a stack that has no state, dependencies first', async () => {
    const p = plan(BASE, undefined);
    expect(actionsOf(p)).toEqual([
      'data/db create w0: new component',
      'data/files create w0: new component',
      'web/api create w1: new component',
      'web/frontend create w2: new component',
    ]);
    expect(p.waves).toEqual([['data/db', 'data/files'], ['web/api'], ['web/frontend']]);
    expect([p.lineage, p.serial]).toEqual([null, 0]);
    await golden(p, 'create');
  });

  it('does nothing when the state matches the configuration', async () => {
    const p = plan(BASE, deployed(BASE, OUTPUTS));
    expect(p.summary).toEqual({ create: 0, update: 0, replace: 0, delete: 0, noop: 4 });
    expect(p.waves).toEqual([]);
    expect([p.lineage, p.serial]).toEqual(['lineage-1', 7]);
    await golden(p, 'no-op');
  });

  it('deploys a forced component though nothing in its configuration changed (drift remediation), in its wave, with the reason given', () => {
    const graph = buildGraph(BASE.components.values(), (id) => BASE.components.get(id));
    const p = computePlan(BASE, deployed(BASE, OUTPUTS), graph, new Map([['web/api', 'drift: env.GREETING was changed']]));
    expect(actionsOf(p)).toEqual([
      'data/db no-op w-: up to date',
      'data/files no-op w-: up to date',
      'web/api update w0: drift: env.GREETING was changed',
      'web/frontend no-op w-: up to date',
    ]);
    expect(p.waves).toEqual([['web/api']]);
  });

  it('does nothing when only dependsOn changed: it orders work, it does not change a resource', () => {
    const moved = stack(FILES, DB, API, component('web/frontend', 'MicroService', { port: 3000, dependsOn: ['web/api', 'data/files'] }));
    expect(plan(moved, deployed(BASE, OUTPUTS)).summary.noop).toBe(4);
  });

  it('updates a component whose spec changed and names the changed JSON pointers', async () => {
    const changed = stack(
      component('data/files', 'S3', { versioning: false }),
      DB,
      component('web/api', 'MicroService', {
        port: 8081,
        env: { GREETING: 'hi', LOG: 'debug', FILES_DIR: valueFrom('data/files', 'path') },
        dependsOn: ['data/db'],
      }),
      FRONTEND,
    );
    const p = plan(changed, deployed(BASE, OUTPUTS));
    expect(actionsOf(p)).toEqual([
      'data/db no-op w-: up to date',
      'data/files update w0: spec changed: /versioning [/versioning]',
      'web/api update w1: spec changed: /env/LOG, /port [/env/LOG /port]',
      'web/frontend no-op w-: up to date',
    ]);
    expect(p.waves).toEqual([['data/files'], ['web/api']]);
    await golden(p, 'update');
  });

  it('replaces a component whose kind (or target) changed: that cannot change in place', async () => {
    const state = deployed(BASE, OUTPUTS);
    state.components['data/db'] = { ...state.components['data/db']!, target: 'aws' };
    const changed = stack(component('data/files', 'MicroService', { port: 9000, command: ['minio'] }), DB, API, FRONTEND);
    const p = plan(changed, state);
    expect(actionsOf(p).slice(0, 2)).toEqual([
      'data/db replace w0: target aws -> local (cannot change in place)',
      'data/files replace w0: kind S3 -> MicroService (cannot change in place)',
    ]);
    await golden(p, 'replace');
  });

  it('deletes components removed from the configuration after everything else, dependents first', async () => {
    const state = deployed(BASE, OUTPUTS, {
      'jobs/queue': orphan('jobs/queue', 'S3', []),
      'jobs/worker': orphan('jobs/worker', 'MicroService', ['jobs/queue', 'data/db']),
      'jobs/report': orphan('jobs/report', 'MicroService', ['jobs/worker']),
    });
    const p = plan(BASE, state);
    expect(actionsOf(p).slice(4)).toEqual([
      'jobs/report delete w0: removed from configuration',
      'jobs/worker delete w1: removed from configuration',
      'jobs/queue delete w2: removed from configuration',
    ]);
    expect(p.waves).toEqual([['jobs/report'], ['jobs/worker'], ['jobs/queue']]);
    expect(p.summary).toEqual({ create: 0, update: 0, replace: 0, delete: 3, noop: 4 });
    await golden(p, 'delete');
  });

  it('creates again a component whose create failed, and updates one whose last apply failed', async () => {
    const state = deployed(BASE, OUTPUTS);
    state.components['data/db'] = { ...state.components['data/db']!, status: 'create-failed', outputs: {} };
    state.components['web/api'] = { ...state.components['web/api']!, status: 'failed' };
    const p = plan(BASE, state);
    expect(actionsOf(p)).toEqual([
      'data/db create w0: new component (the previous create failed)',
      'data/files no-op w-: up to date',
      'web/api update w1: the last apply of this component failed',
      'web/frontend no-op w-: up to date',
    ]);
    await golden(p, 'failed');
  });

  it('updates a component whose spec is unchanged when an upstream output it uses has changed', async () => {
    // web/api was deployed with data/files' old path; data/files has since been redeployed elsewhere.
    const state = deployed(BASE, OUTPUTS);
    state.components['data/files'] = { ...state.components['data/files']!, outputs: { path: '/mnt/files' } };
    const p = plan(BASE, state);
    expect(actionsOf(p)).toEqual([
      'data/db no-op w-: up to date',
      'data/files no-op w-: up to date',
      'web/api update w0: an output it uses changed (data/files) [/env/FILES_DIR]',
      'web/frontend no-op w-: up to date',
    ]);
    await golden(p, 'upstream-output');
  });

  it('ignores upstream outputs that are not consumed', () => {
    const state = deployed(BASE, OUTPUTS);
    state.components['data/files'] = { ...state.components['data/files']!, outputs: { path: '/var/files', bucketArn: 'arn:new' } };
    state.components['data/db'] = { ...state.components['data/db']!, outputs: { url: 'postgres://elsewhere' } }; // explicit dependency, not referenced
    expect(plan(BASE, state).summary.noop).toBe(4);
  });

  it('is a pure function: same inputs, same plan, inputs untouched', () => {
    const state = deployed(BASE, OUTPUTS, { 'jobs/queue': orphan('jobs/queue', 'S3', []) });
    const before = JSON.stringify(state);
    const first = plan(BASE, state);
    expect(plan(BASE, state)).toEqual(first);
    expect(JSON.stringify(state)).toBe(before);
  });
});

describe('computeDestroyPlan', () => {
  it('deletes every recorded component, dependents before what they depend on', async () => {
    const p = computeDestroyPlan('shop', 'dev', deployed(BASE, OUTPUTS));
    expect(actionsOf(p)).toEqual([
      'web/frontend delete w0: destroy',
      'web/api delete w1: destroy',
      'data/db delete w2: destroy',
      'data/files delete w2: destroy',
    ]);
    expect(p.waves).toEqual([['web/frontend'], ['web/api'], ['data/db', 'data/files']]);
    await golden(p, 'destroy');
  });

  it('is empty when nothing was ever deployed', () => {
    expect(computeDestroyPlan('shop', 'dev', undefined)).toEqual({
      stack: 'shop',
      environment: 'dev',
      lineage: null,
      serial: 0,
      actions: [],
      waves: [],
      summary: { create: 0, update: 0, replace: 0, delete: 0, noop: 0 },
    });
  });
});

describe('changedPaths', () => {
  it('lists changed, added and removed leaves as sorted JSON pointers', () => {
    expect(changedPaths({ port: 80, env: { A: '1', B: '2' }, gone: true }, { port: 81, env: { A: '1', C: '3' } })).toEqual([
      '/env/B',
      '/env/C',
      '/gone',
      '/port',
    ]);
  });

  it('treats a list as one value and escapes keys', () => {
    expect(changedPaths({ command: ['a', 'b'], tags: { 'a/b': 'x' } }, { command: ['a', 'c'], tags: { 'a/b': 'y' } })).toEqual([
      '/command',
      '/tags/a~1b',
    ]);
  });

  it('ignores key order and reports nothing for equal specs', () => {
    expect(changedPaths({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })).toEqual([]);
  });
});
