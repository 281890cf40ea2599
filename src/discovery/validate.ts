/**
 * JSON Schema validation of documents against `schemas/<Kind>.schema.json` (the single source
 * of truth for the language). Every error of every document is reported at once.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ValidationProblem } from '../errors.js';
import { schemasDir } from '../package-info.js';
import { closest } from './suggest.js';

// ajv-formats is CommonJS with a default export that TypeScript's NodeNext view does not see as callable.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: Ajv, formats: string[]) => Ajv;
import { escapePointer, locate, type ParsedDocument } from './parse.js';

export interface SchemaSet {
  kinds: string[];
  validatorFor(kind: string): ValidateFunction | undefined;
  /** A kind's schema as written (for its `x-deployer-*` annotations), undefined for an unknown kind. */
  schemaOf(kind: string): Record<string, unknown> | undefined;
}

let cached: SchemaSet | undefined;

/**
 * Loads every schema in `schemas/` once per process; a kind's validator is compiled the first
 * time a document of that kind is validated (compiling all of them costs half a second).
 */
export function loadSchemas(dir: string = schemasDir): SchemaSet {
  if (cached && dir === schemasDir) return cached;
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, useDefaults: false });
  addFormats(ajv, ['uri', 'email', 'hostname', 'date-time']);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.schema.json'))
    .sort();
  const raw = new Map<string, Record<string, unknown>>();
  for (const f of files) {
    const schema = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
    raw.set(f.replace(/\.schema\.json$/, ''), schema);
    ajv.addSchema(schema);
  }
  const kinds = files.map((f) => f.replace(/\.schema\.json$/, '')).filter((k) => k !== 'defs');
  const known = new Set(kinds);
  const validators = new Map<string, ValidateFunction>();
  const set: SchemaSet = {
    kinds,
    validatorFor: (k) => {
      if (!known.has(k)) return undefined;
      let v = validators.get(k);
      if (!v) {
        v = ajv.getSchema(`https://deployer.io/schemas/${k}.schema.json`)!;
        validators.set(k, v);
      }
      return v;
    },
    schemaOf: (k) => (known.has(k) ? raw.get(k) : undefined),
  };
  if (dir === schemasDir) cached = set;
  return set;
}

/** A schema problem of one document, at a JSON pointer (located in a file later). */
export interface Finding {
  pointer: string;
  message: string;
  rule: string;
  /** `Kind/name` of the document (absent when it is not a mapping). */
  document: string | undefined;
}

/** `Kind/name` as far as the document says; undefined for what is not a mapping. */
export function labelOf(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const d = data as { kind?: unknown; metadata?: { name?: unknown } };
  return `${typeof d.kind === 'string' ? d.kind : '?'}/${typeof d.metadata?.name === 'string' ? d.metadata.name : '?'}`;
}

/** Validates one document's data against the schema of its kind; empty when valid. */
export function validateData(schemas: SchemaSet, data: unknown): Finding[] {
  const label = labelOf(data);
  const finding = (pointer: string, message: string, rule: string): Finding => ({ pointer, message, rule, document: label });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return [finding('', 'a document must be a mapping with apiVersion, kind, metadata and spec', 'document')];
  }
  const kind = (data as Record<string, unknown>)['kind'];
  if (typeof kind !== 'string') return [finding('/kind', 'missing "kind"', 'required')];
  const validate = schemas.validatorFor(kind);
  if (!validate) {
    const hint = closest(kind, schemas.kinds);
    return [finding('/kind', `unknown kind "${kind}"${hint ? `; did you mean "${hint}"?` : ''}`, 'kind')];
  }
  if (validate(data)) return [];
  return simplify(validate.errors ?? []).map((e) => ({ ...toFinding(e), document: label }));
}

/** Validates one document parsed with positions; returns located problems. */
export function validateDocument(schemas: SchemaSet, doc: ParsedDocument): ValidationProblem[] {
  return validateData(schemas, doc.data).map((f) => ({
    location: locate(doc.positions, f.pointer, doc.source),
    ...(f.document === undefined ? {} : { document: f.document }),
    path: f.pointer,
    message: f.message,
    rule: f.rule,
  }));
}

/** Drops the noise of failed `oneOf` branches: the `oneOf` error itself says enough. */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  return errors.filter((e) => {
    if (e.keyword === 'oneOf') return true;
    return !oneOfs.some((o) => e.schemaPath.includes('/oneOf/') && (e.instancePath + '/').startsWith(o.instancePath + '/'));
  });
}

function toFinding(e: ErrorObject): Omit<Finding, 'document'> {
  let pointer = e.instancePath;
  let message = e.message ?? 'is invalid';
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String((e.params as { additionalProperty: string }).additionalProperty);
      pointer = `${pointer}/${escapePointer(prop)}`;
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = closest(prop, known);
      message = `unknown field "${prop}"${hint ? `; did you mean "${hint}"?` : known.length ? `; expected one of ${known.join(', ')}` : ''}`;
      break;
    }
    case 'required':
      message = `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
      break;
    case 'enum':
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
      break;
    case 'oneOf': {
      // The failed branches say little; the schema's own description of the value says what it must be.
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      message = description ? `must be: ${description}` : 'does not match any of the allowed forms';
      break;
    }
    case 'pattern': {
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      message = description ? `must be ${description.charAt(0).toLowerCase()}${description.slice(1)}` : message;
      break;
    }
    default:
      break;
  }
  return { pointer, message, rule: e.keyword };
}
