/**
 * The kinds' validators as code, generated once at build time (ajv's standalone output, one
 * CommonJS module per kind under `dist/schema-validators/`) so that a run loads the code of the
 * kinds it meets instead of compiling their schemas at each start (≈0.3 s of a 1 s `plan`).
 *
 * The generated set carries a fingerprint of the schemas it was made from; a run whose schemas
 * differ (edited after the build) compiles them instead, so a stale build never validates.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Ajv, Options, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** The options every validator is made with, compiled or generated alike. */
const AJV_OPTIONS: Options = { allErrors: true, verbose: true, strict: false, useDefaults: false };
const FORMATS = ['uri', 'email', 'hostname', 'date-time'];

/** The schema files of a directory, by kind (`defs` included), as read. */
export type SchemaSources = Map<string, string>;

/** Reads `<Kind>.schema.json` of a directory. */
export function readSchemaSources(dir: string): SchemaSources {
  const sources: SchemaSources = new Map();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.schema.json'))) {
    sources.set(f.replace(/\.schema\.json$/, ''), readFileSync(path.join(dir, f), 'utf8'));
  }
  return sources;
}

/** The `$id` of a kind's schema. */
export const schemaId = (kind: string): string => `https://deployer.io/schemas/${kind}.schema.json`;

/** How the generated modules are made (changes with ajv's version or this file's wrapping). */
const GENERATOR = `ajv-${(require('ajv/package.json') as { version: string }).version}-wrapped-1`;

/** sha256 over the generator and the schema files' names and contents, in name order. */
export function fingerprintOf(sources: SchemaSources): string {
  const hash = createHash('sha256').update(`${GENERATOR}\0`);
  for (const [kind, text] of [...sources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(`${kind}\0${text}\0`);
  }
  return hash.digest('hex');
}

/** A new ajv holding every schema of `sources`; `source: true` keeps the code for generation. */
export function ajvWith(sources: SchemaSources, options: { source: boolean }): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  // ajv-formats is CommonJS with a default export that TypeScript's NodeNext view does not see as callable.
  const addFormats = require('ajv-formats') as (ajv: Ajv, formats: string[]) => Ajv;
  const ajv = new AjvClass({ ...AJV_OPTIONS, code: { source: options.source } });
  addFormats(ajv, FORMATS);
  for (const text of sources.values()) ajv.addSchema(JSON.parse(text) as object);
  return ajv;
}

// The generated code requires ajv's runtime helpers; wrapped in a function given this module's
// require, it finds them from deployer's own dependencies wherever the generated files are.
const MODULE_HEAD =
  "'use strict';\nmodule.exports = function validatorOf(require) {\nconst module = { exports: {} };\nconst exports = module.exports;\n";
const MODULE_TAIL = '\nreturn module.exports;\n};\n';

interface GeneratedIndex {
  fingerprint: string;
  kinds: string[];
}

/**
 * Writes one validator module per kind (every kind but `defs`) and an `index.json` with the
 * fingerprint into `outDir`, replacing what was there. Written beside and renamed into place,
 * so an interrupted build leaves either the old set or none, never half of a new one.
 */
export function writeValidatorModules(sources: SchemaSources, outDir: string): GeneratedIndex {
  const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: Ajv, v: ValidateFunction) => string }).default;
  const ajv = ajvWith(sources, { source: true });
  const kinds = [...sources.keys()].filter((k) => k !== 'defs').sort();
  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const kind of kinds) {
    const code = standaloneCode(ajv, ajv.getSchema(schemaId(kind))!);
    writeFileSync(path.join(staging, `${kind}.cjs`), `${MODULE_HEAD}${code}${MODULE_TAIL}`);
  }
  const index: GeneratedIndex = { fingerprint: fingerprintOf(sources), kinds };
  writeFileSync(path.join(staging, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  return index;
}

/**
 * The generated validators of `dir` when they were made from exactly the schemas of
 * `fingerprint` (fingerprintOf); undefined when there are none or they are stale (the caller compiles then).
 */
export function generatedValidators(dir: string, fingerprint: string): ((kind: string) => ValidateFunction) | undefined {
  let index: GeneratedIndex;
  try {
    index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as GeneratedIndex;
  } catch {
    return undefined;
  }
  if (index.fingerprint !== fingerprint) return undefined;
  return (kind) => (require(path.join(dir, `${kind}.cjs`)) as (r: NodeJS.Require) => ValidateFunction)(require);
}
