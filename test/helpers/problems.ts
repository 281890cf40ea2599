/** Validation problems as one-line strings, for tests that compare what discovery reports. */
import { expect } from 'vitest';
import { ValidationError, type ValidationProblem } from '../../src/errors.js';

/** `file:line:col document path [rule] message` */
export function showProblem(p: ValidationProblem): string {
  return `${p.location.file}:${p.location.line}:${p.location.col} ${p.document ?? '-'} ${p.path || '/'} [${p.rule}] ${p.message}`;
}

/** The problems of the ValidationError `loading` rejects with (it must reject with one). */
export async function problemsRaised(loading: Promise<unknown>): Promise<string[]> {
  const err = await loading.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).problems.map(showProblem);
}
