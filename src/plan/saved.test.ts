import { describe, expect, it } from 'vitest';
import { desiredStack } from '../../test/helpers/desired.js';
import type { DesiredComponent, DesiredStack } from '../model/desired.js';
import type { Plan } from '../model/plan.js';
import { configHashOf, readSavedPlan, savePlan, stalePlanReasons } from './saved.js';

const component = (id: string, specHash: string, dependsOn: string[] = []): DesiredComponent => ({
  id,
  service: id.split('/')[0]!,
  name: id.split('/')[1]!,
  kind: 'S3',
  target: 'local',
  spec: {},
  dependsOn,
  references: [],
  baseDir: '/s',
  source: { file: '/s/x.yaml', display: 'x.yaml', docIndex: 0 },
  specHash,
});
const stack = (...cs: DesiredComponent[]): DesiredStack => desiredStack(cs, { dir: '/s' });
const plan: Plan = {
  stack: 'shop',
  environment: 'dev',
  lineage: 'L',
  serial: 4,
  actions: [],
  waves: [],
  summary: { create: 0, update: 0, replace: 0, delete: 0, noop: 0 },
};
const state = (lineage: string, serial: number) => ({ version: 1, lineage, serial, stack: 'shop', environment: 'dev', components: {} });

describe('saved plans', () => {
  it('hash the configuration the plan depends on, order aside', () => {
    const a = stack(component('a/x', '1'), component('b/y', '2', ['a/x']));
    expect(configHashOf(a)).toBe(configHashOf(stack(component('b/y', '2', ['a/x']), component('a/x', '1'))));
    expect(configHashOf(a)).not.toBe(configHashOf(stack(component('a/x', '1'), component('b/y', '3', ['a/x']))));
    expect(configHashOf(a)).not.toBe(configHashOf(stack(component('a/x', '1'), component('b/y', '2'))));
  });

  it('are current only against the same state and configuration', () => {
    const desired = stack(component('a/x', '1'));
    const saved = savePlan(plan, desired, new Date('2026-01-01T00:00:00Z'));
    expect(saved).toMatchObject({ format: 'deployer-plan/v1', createdAt: '2026-01-01T00:00:00.000Z' });
    expect(stalePlanReasons(saved, desired, state('L', 4))).toEqual([]);
    expect(stalePlanReasons(saved, desired, state('L', 5))).toEqual(['the state moved on: serial 5 now, 4 when the plan was made']);
    expect(stalePlanReasons(saved, desired, state('M', 4))[0]).toMatch(/another history now \(lineage M, the plan was made on L\)/);
    expect(stalePlanReasons(saved, stack(component('a/x', '2')), state('L', 4))).toEqual([
      'the configuration changed since the plan was made',
    ]);
    expect(stalePlanReasons(saved, { ...desired, environment: 'prod' }, state('L', 4))).toEqual([
      'it is a plan of shop/dev, not of shop/prod',
    ]);
  });

  it('refuse files that are not saved plans', () => {
    expect(readSavedPlan({ format: 'something' })).toMatch(/not a plan saved by `deployer plan --out`/);
    expect(readSavedPlan({ format: 'deployer-plan/v1', configHash: 'x' })).toBe('the plan file is damaged');
    expect(readSavedPlan(null)).toMatch(/not a plan/);
  });
});
