/**
 * The errors deployer raises on purpose. Every one carries a stable `code`; only `src/cli/`
 * turns a code into an exit code, so the layers below never decide how a process ends.
 */

/** A source position, 1-based, as editors show it. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** Stable machine-readable error codes (also printed by `--json`). */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'VALIDATION_FAILED'
  | 'LOCK_HELD'
  | 'LOCK_LOST'
  | 'LOCK_NOT_FOUND'
  | 'STATE_CORRUPT'
  | 'STATE_CONFLICT'
  | 'STALE_PLAN'
  | 'PULUMI_UNAVAILABLE'
  | 'ENGINE_FAILED'
  | 'APPLY_FAILED'
  | 'CANCELLED'
  | 'INTERNAL';

export class DeployerError extends Error {
  readonly code: ErrorCode;
  /** Extra lines printed under the message (hints, the list of problems). */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: { details?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? [];
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Bad flags, arguments or environment: the user can fix the command line. */
export class InvalidInputError extends DeployerError {
  constructor(message: string, details: string[] = []) {
    super('INVALID_INPUT', message, { details });
  }
}

/** One problem found in the configuration, located in its file. */
export interface ValidationProblem {
  location: SourceLocation;
  /** `Kind/name` of the document, when known. */
  document?: string;
  /** JSON path inside the document, e.g. `/spec/port`. */
  path: string;
  message: string;
  /** The rule that failed (a JSON Schema keyword or a deployer rule id). */
  rule: string;
}

export function formatProblem(p: ValidationProblem): string {
  const where = `${p.location.file}:${p.location.line}:${p.location.col}`;
  return [where, p.document ?? '-', p.path || '/', `${p.message} (${p.rule})`].join('  ');
}

/** The configuration is invalid. Carries every problem found, not only the first. */
export class ValidationError extends DeployerError {
  readonly problems: ValidationProblem[];

  constructor(problems: ValidationProblem[]) {
    const n = problems.length;
    super('VALIDATION_FAILED', `configuration is invalid: ${n} problem${n === 1 ? '' : 's'}`, {
      details: problems.map(formatProblem),
    });
    this.problems = problems;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), problems: this.problems };
  }
}

/** What a lock record says about its holder. */
export interface LockHolder {
  lockKey: string;
  lockId: string;
  lockedBy: string;
  lockedAt: Date;
  expiresAt: Date;
  metadata: Record<string, string>;
}

/** Somebody else holds the lock; names them and how to break a dead holder's lock. */
export class LockHeldError extends DeployerError {
  readonly holder: LockHolder;

  constructor(holder: LockHolder, unlockCommand: string, stale?: string) {
    super(
      'LOCK_HELD',
      `lock ${holder.lockKey} is held by ${holder.lockedBy} since ${holder.lockedAt.toISOString()} ` +
        `(lock id ${holder.lockId}, expires ${holder.expiresAt.toISOString()})`,
      {
        details: [
          ...(holder.metadata['operation'] ? [`operation: ${holder.metadata['operation']}`] : []),
          ...(stale ? [`It looks abandoned: ${stale}.`] : []),
          `If that run is dead, release the lock with: ${unlockCommand}`,
        ],
      },
    );
    this.holder = holder;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), holder: this.holder };
  }
}

/** Our lease was taken over or could not be renewed: stop starting work. */
export class LockLostError extends DeployerError {
  constructor(lockKey: string, reason: string) {
    super('LOCK_LOST', lockKey ? `lost the lock ${lockKey}: ${reason}` : reason);
  }
}

/** The stored state cannot be trusted (digest mismatch, unreadable JSON). */
export class StateCorruptError extends DeployerError {
  constructor(message: string, details: string[] = []) {
    super('STATE_CORRUPT', message, { details });
  }
}

/** The Pulumi CLI is missing and cannot be provisioned. */
export class PulumiUnavailableError extends DeployerError {
  constructor(message: string, details: string[] = []) {
    super('PULUMI_UNAVAILABLE', message, { details });
  }
}

/** One or more components failed to deploy; the summary is in `details`. */
export class ApplyFailedError extends DeployerError {
  constructor(message: string, details: string[] = []) {
    super('APPLY_FAILED', message, { details });
  }
}

/** A saved plan that no longer matches the state or the configuration. */
export class StalePlanError extends DeployerError {
  constructor(file: string, reasons: string[]) {
    super('STALE_PLAN', `the saved plan ${file} cannot be applied: ${reasons[0]}`, {
      details: [...reasons.slice(1), 'Nothing was changed. Make a new plan with `deployer plan --out` and review it.'],
    });
  }
}

export class CancelledError extends DeployerError {
  constructor(message = 'cancelled') {
    super('CANCELLED', message);
  }
}

/** A bug in deployer. Says how to report it. */
export class InternalError extends DeployerError {
  constructor(message: string, cause?: unknown) {
    super('INTERNAL', `internal error: ${message}`, {
      cause,
      details: [
        'This is a bug in deployer. Please report it with the command you ran, this output,',
        'and the log (run again with --log-level debug) at https://github.com/deployer-io/deployer/issues',
      ],
    });
  }
}
