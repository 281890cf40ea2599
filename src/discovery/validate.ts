/**
 * JSON Schema validation of documents against `schemas/<Kind>.schema.json` (the single source
 * of truth for the language). Every error of every document is reported at once.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { SourceLocation, ValidationProblem } from '../errors.js';
import { schemasDir } from '../package-info.js';
import { closest } from './suggest.js';
import { escapePointer, locate, type ParsedDocument } from './parse.js';

export interface SchemaSet {
  kinds: string[];
  validatorFor(kind: string): ValidateFunction | undefined;
}

let cached: SchemaSet | undefined;

/** Loads and compiles every schema in `schemas/` once per process. */
export function loadSchemas(dir: string = schemasDir): SchemaSet {
  if (cached && dir === schemasDir) return cached;
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, useDefaults: false });
  const validators = new Map<string, ValidateFunction>();
  const files = readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort();
  for (const f of files) ajv.addSchema(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as object);
  for (const f of files) {
    const kind = f.replace(/\.schema\.json$/, '');
    if (kind === 'defs') continue;
    const v = ajv.getSchema(`https://deployer.io/schemas/${f}`);
    if (v) validators.set(kind, v);
  }
  const set: SchemaSet = { kinds: [...validators.keys()].sort(), validatorFor: (k) => validators.get(k) };
  if (dir === schemasDir) cached = set;
  return set;
}

/** Validates one document; returns its problems (empty when valid). */
export function validateDocument(schemas: SchemaSet, doc: ParsedDocument): ValidationProblem[] {
  const data = doc.data as Record<string, unknown> | null;
  const fallback = doc.source;
  const problem = (pointer: string, message: string, rule: string, document?: string): ValidationProblem => ({
    location: locate(doc.positions, pointer, fallback),
    ...(document === undefined ? {} : { document }),
    path: pointer,
    message,
    rule,
  });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return [problem('', 'a document must be a mapping with apiVersion, kind, metadata and spec', 'document')];
  }
  const kind = data['kind'];
  const name = (data['metadata'] as { name?: unknown } | undefined)?.name;
  const label = `${typeof kind === 'string' ? kind : '?'}/${typeof name === 'string' ? name : '?'}`;
  if (typeof kind !== 'string') return [problem('/kind', 'missing "kind"', 'required', label)];
  const validate = schemas.validatorFor(kind);
  if (!validate) {
    const hint = closest(kind, schemas.kinds);
    return [problem('/kind', `unknown kind "${kind}"${hint ? `; did you mean "${hint}"?` : ''}`, 'kind', label)];
  }
  if (validate(data)) return [];
  return simplify(validate.errors ?? []).map((e) => toProblem(e, label, doc.positions, fallback));
}

/** Drops the noise of failed `oneOf` branches: the `oneOf` error itself says enough. */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  return errors.filter((e) => {
    if (e.keyword === 'oneOf') return true;
    return !oneOfs.some((o) => e.schemaPath.includes('/oneOf/') && (e.instancePath + '/').startsWith(o.instancePath + '/'));
  });
}

function toProblem(
  e: ErrorObject,
  document: string,
  positions: Map<string, SourceLocation>,
  fallback: SourceLocation,
): ValidationProblem {
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
    case 'oneOf':
      message = 'must be a string, number or boolean, a {valueFrom: {component, output}} or a {secretRef: {provider, key}}';
      break;
    case 'pattern': {
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      message = description ? `does not match: ${description}` : message;
      break;
    }
    default:
      break;
  }
  return { location: locate(positions, pointer, fallback), document, path: pointer, message, rule: e.keyword };
}
