/**
 * What the aws target's data tests share (src/targets/aws/kinds/data-*.test.ts): the stack
 * test/fixtures/aws-data translated under Pulumi's runtime mocks with the warnings it says, where
 * its golden files are kept, the small readers of a mocked run's resources, the outputs a kind
 * declares for aws, and where an input holds a secret.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, vi } from 'vitest';
import { SECRET_SHOWN, type MockedResource, type MockedRun } from '../../src/targets/aws/mocks.js';
import { translateStack, type TranslatedStack } from './aws-translate.js';
import { repoRoot } from './testdir.js';

export const fixture = path.join(repoRoot, 'test', 'fixtures', 'aws-data');
export const golden = (env: string, id: string): string =>
  path.join(repoRoot, 'test', 'fixtures', 'aws-golden', 'data', env, `${id.replace('/', '.')}.yaml`);

/** The resources of a type, by name (the runtime registers them in no fixed order). */
export const ofType = (run: MockedRun, type: string): MockedResource[] =>
  run.resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
export const only = (run: MockedRun, type: string): Record<string, unknown> => {
  const found = ofType(run, type);
  expect(found, type).toHaveLength(1);
  return found[0]!.inputs;
};
export const names = (run: MockedRun, type: string): string[] => ofType(run, type).map((r) => r.name);
/** Every resource as `type name`, sorted. */
export const resourceSet = (run: MockedRun): string[] => run.resources.map((r) => `${r.type} ${r.name}`).sort();
export const alarmsOf = (run: MockedRun): Array<[string, unknown, unknown]> =>
  ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm').map((a) => [a.name, a.inputs['metricName'], a.inputs['dimensions']]);
export const parameters = (inputs: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries((inputs['parameters'] as Array<{ name: string; value: string }>).map((p) => [p.name, p.value]));

/** The outputs a kind declares for aws (its schema's x-deployer-target-outputs.aws, else x-deployer-outputs). */
export function declaredOutputs(kind: string): string[] {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas', `${kind}.schema.json`), 'utf8')) as {
    'x-deployer-outputs': Record<string, string>;
    'x-deployer-target-outputs'?: { aws?: string[] };
  };
  return [...(schema['x-deployer-target-outputs']?.aws ?? Object.keys(schema['x-deployer-outputs']))].sort();
}

/** Where an input holds a secret: `component type name /pointer`. */
export function secretInputs(id: string, run: MockedRun): string[] {
  const found: string[] = [];
  const walk = (v: unknown, at: string, r: MockedResource): void => {
    if (v === SECRET_SHOWN) found.push(`${id} ${r.type} ${r.name} ${at}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}/${i}`, r));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}/${k}`, r);
  };
  for (const r of run.resources) walk(r.inputs, '', r);
  return found;
}

export const ISOLATED = ['isolated-0-id', 'isolated-1-id'];
export const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/kms-data';

/** The fixture stack translated for `env`, and the warnings said while translating it. */
export async function translateData(env: string): Promise<{ stack: TranslatedStack; warnings: string[] }> {
  const warnings: string[] = [];
  // The runtime says a deprecated resource, and deployer an alert it cannot measure, with console.warn.
  const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.join(' ')));
  try {
    return { stack: await translateStack(fixture, env), warnings };
  } finally {
    warn.mockRestore();
  }
}
