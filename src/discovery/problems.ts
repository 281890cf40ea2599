/**
 * The one list of problems discovery collects, reported together: problems whose place is
 * known (`file:line:col`) and problems at a JSON pointer of a document, located only when
 * they are reported (files are parsed again with positions only then).
 */
import { ValidationError, type ValidationProblem } from '../errors.js';
import { Locator, type PendingProblem } from './locate.js';

export class Problems {
  readonly locator = new Locator();
  private readonly located: ValidationProblem[] = [];
  private readonly pending: PendingProblem[] = [];

  /** Problems whose place is already known. */
  addLocated(...problems: ValidationProblem[]): void {
    this.located.push(...problems);
  }

  /** Problems at a pointer of a document, located when reported. */
  add(...problems: PendingProblem[]): void {
    this.pending.push(...problems);
  }

  get count(): number {
    return this.located.length + this.pending.length;
  }

  /** Reports everything collected so far (a ValidationError, sorted by place). */
  fail(): never {
    throw new ValidationError(sortProblems([...this.located, ...this.pending.map((p) => this.locator.resolve(p))]));
  }

  /** Ends discovery here if anything was found. */
  failIfAny(): void {
    if (this.count > 0) this.fail();
  }
}

export function sortProblems(problems: ValidationProblem[]): ValidationProblem[] {
  return [...problems].sort(
    (a, b) => a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line || a.location.col - b.location.col,
  );
}
