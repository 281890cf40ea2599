/**
 * Every document of examples/ validates against the schemas: as written, with each
 * environment's overlays merged onto their base, and with the InfraDefaults /
 * ServiceInfraDefaults / ComponentInfra layers under each component. The examples'
 * `yaml-language-server` modelines point at the right schema. Every example and valid fixture
 * also goes through the whole of discovery (references, declared outputs, policies).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { describeErrors, validate } from '../../test/helpers/schemas.js';
import { removeTestdirs, testdir } from '../../test/helpers/testdir.js';
import { packageRoot, schemasDir } from '../package-info.js';
import { discover } from './index.js';
import { mergeOverlay } from './overlay.js';

type Json = Record<string, unknown>;

const COMPONENTS = 'components.deployer.io/v1';

interface YamlDoc {
  file: string;
  /** Path relative to its stack directory, with / separators. */
  rel: string;
  data: Json;
  /** The `$schema=` of the modeline at the top of the document, if any. */
  modeline?: string;
}

const examplesDir = path.join(packageRoot, 'examples');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : yamlFiles(full);
      return /\.ya?ml$/.test(e.name) ? [full] : [];
    })
    .sort();
}

function readDocs(file: string, root: string): YamlDoc[] {
  const text = readFileSync(file, 'utf8');
  const rel = path.relative(root, file).split(path.sep).join('/');
  // The text of each document, to find its own modeline (one per document in multi-document files).
  const chunks = text.split(/^---[ \t]*$/m);
  const parsed = parseAllDocuments(text);
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  return docs.map((d, i) => {
    expect(
      d.errors.map((e) => e.message),
      `${rel}: YAML errors`,
    ).toEqual([]);
    const modeline = /^# yaml-language-server: \$schema=(\S+)/m.exec(chunks[i] ?? '')?.[1];
    return { file, rel, data: d.toJS() as Json, ...(modeline === undefined ? {} : { modeline }) };
  });
}

const stackDirs = readdirSync(examplesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(path.join(examplesDir, e.name, 'stack.yaml')))
  .map((e) => path.join(examplesDir, e.name));

const meta = (d: Json): { name?: string; service?: string } => (d['metadata'] ?? {}) as { name?: string; service?: string };
const isComponent = (d: Json): boolean => d['apiVersion'] === COMPONENTS;

/** Overlay identity: kind, service (components, per-service defaults) and name. (Discovery keys a component by service and name alone; the kind is kept here for the layers below, and discover() below catches two kinds with one id.) */
function keyOf(d: YamlDoc, relToEnv: string): string {
  const perService = isComponent(d.data) || d.data['kind'] === 'ServiceInfraDefaults' || d.data['kind'] === 'ComponentInfra';
  if (!perService) return `${String(d.data['kind'])}//${meta(d.data).name}`;
  const parts = relToEnv.split('/');
  const inferred = parts[0] === 'services' && parts.length >= 3 ? parts[1] : undefined;
  return `${String(d.data['kind'])}/${meta(d.data).service ?? inferred}/${meta(d.data).name}`;
}

describe('examples/', () => {
  it('has the stacks this test covers', () => {
    expect(stackDirs.map((d) => path.basename(d))).toEqual(expect.arrayContaining(['quickstart', 'shop']));
  });

  const allDocs = yamlFiles(examplesDir).flatMap((f) => readDocs(f, examplesDir));
  const baseDocs = allDocs.filter((d) => !d.rel.split('/').includes('environments'));

  it.each(baseDocs.map((d) => [`${d.rel} ${String(d.data['kind'])}/${meta(d.data).name}`, d] as const))('%s validates', (_label, d) => {
    expect(describeErrors(validate(d.data))).toEqual([]);
  });

  it("gives every document of examples/shop a modeline pointing at its kind's schema (and any other modeline too)", () => {
    for (const d of allDocs) {
      if (d.modeline === undefined) {
        expect(d.rel.startsWith('shop/'), `${d.rel}: no modeline`).toBe(false);
        continue;
      }
      const target = path.resolve(path.dirname(d.file), d.modeline);
      expect(target, d.rel).toBe(path.join(schemasDir, `${String(d.data['kind'])}.schema.json`));
    }
  });

  for (const dir of stackDirs) {
    const name = path.basename(dir);
    const docs = yamlFiles(dir).flatMap((f) => readDocs(f, dir));
    const stack = docs.find((d) => d.data['kind'] === 'Stack')!;
    const environments = (stack.data['spec'] as { environments: string[] }).environments;

    it.each(environments)(
      `${name}: every document of environment %s, overlays merged, validates; so does every component with its defaults`,
      (env) => {
        const byKey = new Map<string, Json>();
        for (const d of docs.filter((x) => !x.rel.startsWith('environments/'))) byKey.set(keyOf(d, d.rel), d.data);
        const prefix = `environments/${env}/`;
        for (const o of docs.filter((x) => x.rel.startsWith(prefix))) {
          const key = keyOf(o, o.rel.slice(prefix.length));
          const base = byKey.get(key);
          expect(base, `${o.rel}: overlay without a base document (${key})`).toBeDefined();
          byKey.set(key, mergeOverlay(base, o.data) as Json);
        }
        // Every overlay directory names a declared environment.
        for (const d of docs.filter((x) => x.rel.startsWith('environments/'))) expect(environments, d.rel).toContain(d.rel.split('/')[1]);

        const merged = [...byKey.entries()];
        for (const [key, data] of merged) expect(describeErrors(validate(data)), `${env} ${key}`).toEqual([]);

        // Defaults under each component: InfraDefaults < ServiceInfraDefaults < ComponentInfra < own spec.
        const ofKind = (kind: string): Json[] => merged.filter(([, d]) => d['kind'] === kind).map(([, d]) => d);
        const specOf = (d: Json): Json => (d['spec'] ?? {}) as Json;
        for (const [key, data] of merged.filter(([, d]) => isComponent(d))) {
          const [kind, service, component] = key.split('/') as [string, string, string];
          const layers: Json[] = [];
          const forKind = (d: Json): void => {
            const s = specOf(d);
            if (s['tags']) layers.push({ tags: s['tags'] });
            const k = (s['components'] as Record<string, Json> | undefined)?.[kind];
            if (k) layers.push(k);
          };
          ofKind('InfraDefaults').forEach(forKind);
          ofKind('ServiceInfraDefaults')
            .filter((d) => meta(d).service === service)
            .forEach(forKind);
          ofKind('ComponentInfra')
            .filter((d) => meta(d).service === service && meta(d).name === component)
            .forEach((d) => layers.push(specOf(d)));
          let spec: Json = {};
          for (const l of [...layers, specOf(data)]) spec = mergeOverlay(spec, l) as Json;
          expect(describeErrors(validate({ ...data, spec })), `${env} ${key} with its defaults`).toEqual([]);
        }
      },
    );
  }
});

describe('examples/ and test/fixtures/ through discover()', () => {
  const fixturesDir = path.join(packageRoot, 'test', 'fixtures');
  const fixtures = readdirSync(fixturesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('invalid-') && existsSync(path.join(fixturesDir, e.name, 'stack.yaml')))
    .map((e) => path.join(fixturesDir, e.name));
  const cases = [...stackDirs, ...fixtures].flatMap((dir) => {
    const stack = readDocs(path.join(dir, 'stack.yaml'), dir).find((d) => d.data['kind'] === 'Stack')!;
    return (stack.data['spec'] as { environments: string[] }).environments.map((env) => [path.relative(packageRoot, dir), env] as const);
  });
  afterAll(removeTestdirs);

  it.each(cases)('%s, environment %s, is valid', async (rel, environment) => {
    // A copy, with the fixtures' placeholders (ports, the strategies fixture's strategy) filled in as their e2e tests do.
    const dir = testdir(rel, {
      PORT_API: '20001',
      PORT_WORKER: '20002',
      PORT_BROKEN: '20003',
      PORT_EU: '20004',
      PORT_US: '20005',
      PORT_RANGE: '31000-31999',
      CLASH_PORT: '20006',
      STRATEGY: '{type: rolling}',
    });
    const desired = await discover({ dir, displayBase: dir, environment, cacheDir: false });
    expect(desired.components.size).toBeGreaterThan(0);
  });
});
