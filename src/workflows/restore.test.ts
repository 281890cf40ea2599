import { describe, expect, it } from 'vitest';
import { desiredStack } from '../../test/helpers/desired.js';
import { STACK_POLICY_DEFAULTS, type DesiredComponent, type DesiredStack } from '../model/desired.js';
import type { ComponentState, StackState } from '../model/state.js';
import { computePlan, restrictPlan } from '../plan/index.js';
import { MemoryStateStore } from '../state/memory.js';
import type { ComponentReport } from '../executor/events.js';
import { whatToUndo, desiredFromRecorded, rollbackModeOf, versionToRestore, serviceVersion } from './restore.js';

const rec = (specHash: string, over: Partial<ComponentState> = {}): ComponentState => ({
  kind: 'S3',
  target: 'local',
  specHash,
  inputsHash: specHash,
  spec: { bucketName: specHash },
  outputs: {},
  dependsOn: [],
  pulumiStack: `p-${specHash}`,
  status: 'deployed',
  deploymentId: 'run',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const comp = (id: string, spec: Record<string, unknown> = {}): DesiredComponent => {
  const [service, name] = id.split('/') as [string, string];
  return {
    id,
    service,
    name,
    kind: 'S3',
    target: 'local',
    spec,
    dependsOn: [],
    references: [],
    baseDir: `/stack/services/${service}`,
    source: { file: '/f', display: 'f', docIndex: 0 },
    specHash: `h-${id}`,
  };
};

function stack(components: DesiredComponent[], rollback = STACK_POLICY_DEFAULTS.rollback): DesiredStack {
  return desiredStack(components, { name: 's', environment: 'e', environments: ['e'], rollback });
}

const state = (components: Record<string, ComponentState>, serial = 1, over: Partial<StackState> = {}): StackState => ({
  version: 1,
  lineage: 'L',
  serial,
  stack: 's',
  environment: 'e',
  components,
  ...over,
});
const report = (id: string, result: ComponentReport['result']): ComponentReport => ({ id, action: 'update', result, engine: true });

describe('automatic rollback', () => {
  const before = state({ 'a/kept': rec('k1'), 'a/changed': rec('c1'), 'a/gone': rec('g1') });
  const after = state({ 'a/kept': rec('k1'), 'a/changed': rec('c1', { status: 'failed' }), 'a/new': rec('n1') }, 5);
  const reports = [report('a/kept', 'unchanged'), report('a/changed', 'failed'), report('a/new', 'created'), report('a/gone', 'deleted')];

  it('undoes everything the run changed: created -> gone, deleted -> back, failed -> its previous spec', () => {
    const desired = stack([comp('a/kept'), comp('a/changed'), comp('a/new')]);
    const due = whatToUndo(desired, before, after, reports)!;
    expect(due.triggers).toEqual(['a/changed']);
    expect(due.ids.sort()).toEqual(['a/changed', 'a/gone', 'a/new']);
    expect(Object.keys(due.components).sort()).toEqual(['a/changed', 'a/gone', 'a/kept']);
    const restoring = desiredFromRecorded(desired, due.components);
    const plan = restrictPlan(computePlan(restoring.desired, after, restoring.graph), due.ids);
    expect(plan.actions.map((a) => [a.id, a.action]).sort()).toEqual([
      ['a/changed', 'update'],
      ['a/gone', 'create'],
      ['a/kept', 'no-op'],
      ['a/new', 'delete'],
    ]);
    expect(plan.summary).toEqual({ create: 1, update: 1, replace: 0, delete: 1, noop: 1 });
  });

  it('scope failed undoes only the failed components; mode off and manual are respected', () => {
    const partial = whatToUndo(
      stack([comp('a/kept'), comp('a/changed'), comp('a/new')], { mode: 'auto', scope: 'failed' }),
      before,
      after,
      reports,
    )!;
    expect(partial.ids).toEqual(['a/changed']);
    expect(whatToUndo(stack([comp('a/changed')], { mode: 'manual', scope: 'run' }), before, after, reports)).toBeUndefined();
    // A component of its own mode: off is never touched, auto triggers even in a manual stack.
    const mixed = stack([comp('a/kept'), comp('a/changed', { rollback: 'auto' }), comp('a/new', { rollback: 'off' })], {
      mode: 'manual',
      scope: 'run',
    });
    expect(rollbackModeOf(mixed, 'a/new')).toBe('off');
    expect(whatToUndo(mixed, before, after, reports)!.ids.sort()).toEqual(['a/changed', 'a/gone']);
    expect(whatToUndo(stack([]), before, after, [report('a/new', 'created')])).toBeUndefined();
  });

  it('restores components in dependency order, implicit references included', () => {
    const { graph } = desiredFromRecorded(stack([]), {
      'a/db': rec('d'),
      'a/api': rec('a', { spec: { url: { valueFrom: { component: 'a/db', output: 'url' } } } }),
    });
    expect(graph.order).toEqual(['a/db', 'a/api']);
  });
});

describe('deployer rollback sources', () => {
  it('restores the version it is asked for, and refuses what cannot be restored', async () => {
    const store = new MemoryStateStore();
    let s = state({}, 0);
    for (const ok of [true, true, false, undefined]) {
      s = await store.write({
        ...s,
        components: { 'a/x': rec(`v${s.serial + 1}`) },
        ...(ok === undefined ? {} : { lastRun: { id: `r${s.serial}`, operation: 'apply', ok, finishedAt: 'now' } }),
      });
    }
    expect(s.serial).toBe(4);
    expect(await versionToRestore(store, s, 'last-good')).toMatchObject({ serial: 2 });
    expect(await versionToRestore(store, s, 1)).toMatchObject({ components: { 'a/x': { specHash: 'v1' } } });
    await expect(versionToRestore(store, s, 4)).rejects.toThrow(/serial 4 is the current version/);
    await expect(versionToRestore(store, s, 40)).rejects.toThrow(/no stored version 40 of s\/e/);
    await expect(versionToRestore(store, undefined, 'last-good')).rejects.toThrow(/no recorded state yet/);
    const first = await new MemoryStateStore().write(state({}, 0));
    expect(await versionToRestore(new MemoryStateStore(), first, 'last-good')).toEqual({
      nothing: expect.stringMatching(/the current version \(serial 1\) is the only good one/),
    });
  });

  it("names a service's version after its newest deployment, or a hash of its specs", () => {
    expect(
      serviceVersion(
        {
          'a/x': rec('1', { serviceVersion: '1.0', updatedAt: '2026-01-01' }),
          'a/y': rec('2', { serviceVersion: '2.0', updatedAt: '2026-02-01' }),
        },
        'a',
      ),
    ).toBe('2.0');
    expect(serviceVersion({ 'a/x': rec('1') }, 'a')).toMatch(/^[0-9a-f]{12}$/);
    expect(serviceVersion({}, 'a')).toBe('(none)');
  });
});
