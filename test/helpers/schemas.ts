/** The JSON Schemas of schemas/, compiled as discovery compiles them, for tests that validate documents. */
import type { ErrorObject } from 'ajv';
import { loadSchemas } from '../../src/discovery/validate.js';

export const schemas = loadSchemas();

/** The schema errors of one document (by its kind). */
export function validate(data: unknown): ErrorObject[] {
  const kind = (data as { kind?: unknown }).kind;
  if (typeof kind !== 'string') throw new Error('document without kind');
  const v = schemas.validatorFor(kind);
  if (!v) throw new Error(`no schema for kind ${kind}`);
  return v(data) ? [] : [...(v.errors ?? [])];
}

/** Errors in a readable form, so that a failing expectation says what is wrong. */
export function describeErrors(errors: ErrorObject[]): string[] {
  return errors.map((e) => `${e.instancePath || '/'} ${e.keyword}: ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
