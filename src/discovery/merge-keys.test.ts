/**
 * YAML 1.1 merge keys (`<<: *base`, `<<: [*a, *b]`, `<<: {inline: map}`), resolved as YAML 1.1
 * tools do by both parsers: explicit keys win over merged ones wherever they are written, and in
 * a list of maps the earlier maps win. Where merged values are located, the hostile-input
 * limits with merges, and a parse cache written before merges were resolved.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsRaised } from '../../test/helpers/problems.js';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { sha256 } from '../model/hash.js';
import { deployerVersion } from '../package-info.js';
import { discover } from './index.js';
import { loadWithJsYaml, parseFast } from './parse-fast.js';
import { parseYamlFile } from './parse.js';

afterAll(removeTestdirs);

/** The documents' data as each parser gives it: js-yaml alone, `yaml` alone, and production. */
function allParsers(text: string): { jsYaml: unknown[]; yaml: unknown[]; fast: unknown[] } {
  const careful = parseYamlFile('f.yaml', text);
  expect(careful.problems).toEqual([]);
  const fast = parseFast('f.yaml', text);
  expect(fast.problems).toEqual([]);
  return {
    jsYaml: loadWithJsYaml('f.yaml', text).map((d) => d.data),
    yaml: careful.documents.map((d) => d.data),
    fast: fast.docs.map((d) => d.data),
  };
}

function expectMerged(text: string, expected: unknown): void {
  const got = allParsers(text);
  expect(got).toEqual({ jsYaml: [expected], yaml: [expected], fast: [expected] });
}

describe('merge keys in both parsers', () => {
  it('merges an alias, explicit keys winning whether written before or after the merge', () => {
    expectMerged('base: &b {x: 1, y: 2, z: 3}\nc:\n  y: 20\n  <<: *b\n  z: 30\n', {
      base: { x: 1, y: 2, z: 3 },
      c: { y: 20, x: 1, z: 30 },
    });
  });

  it('merges a list of aliases, the earlier maps winning', () => {
    expectMerged('a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n', {
      a: { x: 1 },
      b: { x: 2, y: 2 },
      c: { x: 1, y: 2, w: 0 },
    });
    expectMerged('a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<:\n    - *b\n    - *a\n', {
      a: { x: 1 },
      b: { x: 2, y: 2 },
      c: { x: 2, y: 2 },
    });
  });

  it('merges inline maps, in block and in flow style, and merges through a merged map', () => {
    expectMerged('c:\n  <<: {x: 1, y: 2}\n  x: 5\n', { c: { x: 5, y: 2 } });
    expectMerged('c: {<<: [{x: 1}, {x: 2, y: 2}], z: 3}\n', { c: { x: 1, y: 2, z: 3 } });
    expectMerged('a: &a {x: {deep: 1}}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n', {
      a: { x: { deep: 1 } },
      b: { x: { deep: 1 }, y: 2 },
      c: { x: { deep: 1 }, y: 2 },
    });
  });

  it('keeps a quoted "<<" as an ordinary key, and a plain << value as text', () => {
    expectMerged('c:\n  "<<": {x: 1}\n  d: <<\n', { c: { '<<': { x: 1 }, d: '<<' } });
  });

  it('reports merging something that is not a map', () => {
    for (const text of ['a: &a [1, 2]\nc:\n  <<: *a\n', 'c:\n  <<: 3\n']) {
      const r = parseFast('f.yaml', text);
      expect(r.docs).toEqual([]);
      expect(r.problems.map((p) => [p.location.line, p.rule, p.message])).toEqual([
        [1, 'yaml', 'Merge sources must be maps or map aliases'],
      ]);
    }
  });
});

describe('positions of merged keys', () => {
  it('never records /<< as a field; merged keys are at their merge key, explicit ones where they are written', () => {
    const text = 'base: &b {x: 1, y: 2}\nc:\n  y: 20\n  <<: *b\n  z: 30\n';
    const positions = Object.fromEntries(
      [...parseYamlFile('f.yaml', text).documents[0]!.positions].map(([k, v]) => [k, `${v.line}:${v.col}`]),
    );
    expect(Object.keys(positions).filter((k) => k.includes('<<'))).toEqual([]);
    expect(positions).toMatchObject({ '/c/y': '3:3', '/c/x': '4:3', '/c/z': '5:3' });
  });
});

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: merges\nspec:\n  environments: [dev]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const web = (file: string): string => path.join('services', 'web', file);
const api = (spec: string): string =>
  `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  port: 8080\n${spec}`;
const MERGING = api(
  '  tags: &team\n    team: web\n    owner: ops\n  env:\n    <<: *team\n    MODE: fast\n  healthCheck:\n    <<: {path: /ready, interval: 5}\n    timeout: 2\n',
);

const stackDir = (files: Record<string, string>): string =>
  writeStackDir({ 'stack.yaml': STACK, [web('service.yaml')]: SERVICE, ...files });
const load = (dir: string, cacheDir: string | false = false) => discover({ dir, displayBase: dir, cacheDir });

describe('merge keys in a stack', () => {
  it('loads a component whose maps are merged from an anchor and from an inline map', async () => {
    const spec = (await load(stackDir({ [web('api.yaml')]: MERGING }))).components.get('web/api')!.spec;
    expect(spec['env']).toEqual({ team: 'web', owner: 'ops', MODE: 'fast' });
    expect(spec['healthCheck']).toMatchObject({ path: '/ready', interval: 5, timeout: 2 });
  });

  it('locates a wrong merged value at the merge key', async () => {
    const text = MERGING.replace('interval: 5', 'interval: soon');
    expect(await problemsRaised(load(stackDir({ [web('api.yaml')]: text })))).toEqual([
      `${web('api.yaml')}:14:5 MicroService/api /spec/healthCheck/interval [type] must be number`,
    ]);
  });

  it('does not use what a cache written before merges were resolved holds for the file', async () => {
    const dir = stackDir({ [web('api.yaml')]: MERGING });
    const file = path.join(dir, web('api.yaml'));
    const st = statSync(file);
    const hash = sha256(Buffer.from(MERGING));
    // What the previous cache format kept for this file: the merge key as a literal field.
    const literal = {
      apiVersion: 'components.deployer.io/v1',
      kind: 'MicroService',
      metadata: { name: 'api' },
      spec: { port: 8080, healthCheck: { '<<': { path: '/ready' } } },
    };
    const cacheDir = path.join(dir, '.deployer', 'cache');
    const old = {
      format: `documents-${deployerVersion}-jsyaml4-yaml2-v1`,
      writtenAt: Date.now() + 3_600_000,
      files: { [file]: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash } },
      entries: { [hash]: { docs: [{ docIndex: 0, data: literal }], problems: [] } },
    };
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(path.join(cacheDir, `${old.format}.json`), JSON.stringify(old));
    const spec = (await load(dir, cacheDir)).components.get('web/api')!.spec;
    expect(spec['healthCheck']).toMatchObject({ path: '/ready', interval: 5, timeout: 2 });
  });
});

describe('hostile input with merge keys', () => {
  it('refuses merges that multiply (each level merging the previous one ten times)', () => {
    const lines = [`l0: &l0 {${Array.from({ length: 10 }, (_, i) => `k${i}: ${i}`).join(', ')}}`];
    for (let i = 1; i < 12; i++)
      lines.push(
        `l${i}: &l${i}\n  <<: [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]\n  m${i}: ${i}`,
      );
    const r = parseFast('bomb.yaml', lines.join('\n') + '\n');
    expect(r.docs).toEqual([]);
    expect(r.problems.map((p) => p.message)).toEqual(['Excessive alias count indicates a resource exhaustion attack']);
  });

  it('reports merged maps nested beyond the depth limit', () => {
    const deep = '{a: '.repeat(70) + '1' + '}'.repeat(70);
    expect(parseFast('deep.yaml', `c:\n  <<: ${deep}\n`).problems.map((p) => p.rule)).toEqual(['nesting']);
    expect(parseFast('deep.yaml', `d: &d ${deep}\nc:\n  <<: {x: *d}\n`).problems.map((p) => p.rule)).toEqual(['nesting']);
  });
});
