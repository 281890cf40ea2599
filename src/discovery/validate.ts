/**
 * JSON Schema validation of documents against `schemas/<Kind>.schema.json` (the single source
 * of truth for the language). Every error of every document is reported at once.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ValidationProblem } from '../errors.js';
import { distFile, schemasDir } from '../package-info.js';
import { escapePointer, locate, type ParsedDocument } from './parse.js';
import { ajvWith, fingerprintOf, generatedValidators, readSchemaSources, schemaId, type SchemaSources } from './schema-code.js';
import { closest } from './suggest.js';
import type { KnownValid } from './valid-memo.js';

export interface SchemaSet {
  kinds: string[];
  /** sha256 over the schemas (and how validators are made from them): what a validation result holds for. */
  fingerprint: string;
  /** The documents known valid under these schemas (a discovery's memo, valid-memo.ts): not validated again. */
  known?: KnownValid;
  validatorFor(kind: string): ValidateFunction | undefined;
  /**
   * A kind's schema as written (for its `x-deployer-*` annotations), or `defs`, the definitions
   * the kinds share; undefined for an unknown kind.
   */
  schemaOf(kind: string): Record<string, unknown> | undefined;
}

/** Where the build writes the kinds' validators as code (see schema-code.ts). */
export const generatedValidatorsDir = distFile('schema-validators');

let cached: SchemaSet | undefined;

/**
 * Loads every schema in `dir` once per process. A kind's validator is the build's generated
 * code for it when that was made from these very schemas (`generated`, by default the build's
 * for the installed schemas; null: none), and otherwise compiled the first time a document of that kind is
 * validated (compiling all of them costs half a second).
 */
export function loadSchemas(
  dir: string = schemasDir,
  generated: string | null = dir === schemasDir ? generatedValidatorsDir : null,
): SchemaSet {
  const useCache = dir === schemasDir && generated === generatedValidatorsDir;
  if (cached && useCache) return cached;
  const sources = readSchemaSources(dir);
  const raw = new Map<string, Record<string, unknown>>();
  const rawOf = (k: string): Record<string, unknown> => {
    let schema = raw.get(k);
    if (!schema) raw.set(k, (schema = JSON.parse(sources.get(k)!) as Record<string, unknown>));
    return schema;
  };
  const kinds = [...sources.keys()].filter((k) => k !== 'defs').sort();
  const known = new Set(kinds);
  const fingerprint = fingerprintOf(sources);
  const load = (generated !== null ? generatedValidators(generated, fingerprint) : undefined) ?? compiler(sources);
  const validators = new Map<string, ValidateFunction>();
  const set: SchemaSet = {
    kinds,
    fingerprint,
    validatorFor: (k) => {
      if (!known.has(k)) return undefined;
      let v = validators.get(k);
      if (!v) validators.set(k, (v = load(k)));
      return v;
    },
    schemaOf: (k) => (sources.has(k) ? rawOf(k) : undefined),
  };
  if (useCache) cached = set;
  return set;
}

/** Compiles a kind's validator on first use, all kinds sharing one ajv (their `$ref`s resolve there). */
function compiler(sources: SchemaSources): (kind: string) => ValidateFunction {
  let ajv: ReturnType<typeof ajvWith> | undefined;
  return (kind) => (ajv ??= ajvWith(sources, { source: false })).getSchema(schemaId(kind))!;
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
  return schemas.known ? schemas.known.validated(data, () => findingsOf(schemas, data)) : findingsOf(schemas, data);
}

function findingsOf(schemas: SchemaSet, data: unknown): Finding[] {
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
      // The failed branches say little: the schema says in a few words what the value must be
      // (`x-deployer-must`), else its description does.
      const parent = e.parentSchema as { description?: string; 'x-deployer-must'?: string } | undefined;
      const must = parent?.['x-deployer-must'];
      message = must
        ? `must be ${must}`
        : parent?.description
          ? `must be: ${parent.description}`
          : 'does not match any of the allowed forms';
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
