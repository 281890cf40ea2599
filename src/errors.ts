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
  | 'LEDGER_TAMPERED'
  | 'LEDGER_UNAVAILABLE'
  | 'STALE_PLAN'
  | 'PULUMI_UNAVAILABLE'
  | 'ENGINE_FAILED'
  | 'APPLY_FAILED'
  | 'BUILD_FAILED'
  | 'GATE_REFUSED'
  | 'PORT_IN_USE'
  | 'CAPACITY_EXCEEDED'
  | 'CANCELLED'
  | 'MACHINE_FAULT'
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

/** `ledger verify` found rows or records changed, removed or added behind the ledger's back. */
export class LedgerTamperedError extends DeployerError {
  constructor(message: string, details: string[] = []) {
    super('LEDGER_TAMPERED', message, { details });
  }
}

/**
 * The ledger's database server cannot be reached or refuses deployer (connection refused, no
 * such host, wrong password, no such database): the environment to fix, not a bug. `where`
 * names it without its password.
 */
export class LedgerUnavailableError extends DeployerError {
  constructor(where: string, reason: string, cause?: unknown) {
    super('LEDGER_UNAVAILABLE', `cannot use the ledger at ${where}: ${reason}`, {
      cause,
      details: [
        'Check that the server is running and reachable, and the user, password and database in DEPLOY_LEDGER_DB (or --ledger).',
        'Nothing was recorded; the command can be run again once the ledger is reachable.',
      ],
    });
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

/** A component's build failed (its command exited non-zero, timed out, or produced none of its outputs). */
export class BuildFailedError extends DeployerError {
  constructor(message: string, details: string[] = []) {
    super('BUILD_FAILED', message, { details });
  }
}

/** The gates a release may be refused by (pipeline/gates.ts). */
export type GateName = 'security-scan' | 'policy' | 'signature';

/** A release gate refused a component: it was not deployed. */
export class GateRefusedError extends DeployerError {
  constructor(
    readonly gate: GateName,
    message: string,
    details: string[] = [],
  ) {
    super('GATE_REFUSED', message, { details });
  }
}

/** One finding of a security scanner, as the security-scan gate counts it. */
export interface Vulnerability {
  id: string;
  severity: 'critical' | 'high' | 'medium' | 'low' | 'unknown';
  /** The package or file it is in, and its version when the scanner says. */
  target: string;
  title?: string;
  fixedIn?: string;
}

/** The scanner found more counted vulnerabilities than the threshold allows (seed 002's SecurityScanFailed). */
export class SecurityScanFailed extends GateRefusedError {
  constructor(
    component: string,
    /** The counted findings, worst first. */
    readonly vulnerabilities: Vulnerability[],
    threshold: number,
    severity: string,
  ) {
    const worst = vulnerabilities
      .slice(0, 5)
      .map((v) => `${v.severity} ${v.id} in ${v.target}${v.fixedIn ? ` (fixed in ${v.fixedIn})` : ''}`);
    super(
      'security-scan',
      `${component}: the security scan found ${vulnerabilities.length} ${severity === 'critical' ? 'critical' : `${severity} or worse`} vulnerabilit${vulnerabilities.length === 1 ? 'y' : 'ies'} (${threshold} allowed)`,
      [...worst, ...(vulnerabilities.length > 5 ? [`... and ${vulnerabilities.length - 5} more`] : [])],
    );
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), gate: this.gate, vulnerabilities: this.vulnerabilities };
  }
}

/**
 * A destroy not done because a destroy that had to come first failed (a component that depends
 * on this one is still there): nothing of this component was deleted.
 */
export class DestroyBlockedError extends DeployerError {
  constructor(
    readonly stackName: string,
    /** The Pulumi stacks whose destroy failed or was blocked in turn (none: the run was stopping). */
    readonly blockedBy: string[],
  ) {
    super(
      'APPLY_FAILED',
      blockedBy.length > 0
        ? `${stackName} was not destroyed: ${blockedBy.join(', ')}, which depend on it, could not be destroyed first`
        : `${stackName} was not destroyed: the run stopped before it started`,
    );
  }
}

/** A saved plan that no longer matches the state or the configuration. */
/** A port a component needs is held by another program (local target): refused before anything starts. */
export class PortInUseError extends DeployerError {
  constructor(problems: string[]) {
    super('PORT_IN_USE', problems[0]!, {
      details: [...problems.slice(1), 'Nothing was started or changed. Free the port, or give the component another (or `port: auto`).'],
    });
  }
}

/** The changing components ask for more than this machine has (local target): refused before anything starts. */
export class CapacityExceededError extends DeployerError {
  constructor(problems: string[]) {
    super(
      'CAPACITY_EXCEEDED',
      `this machine cannot take ${problems.length === 1 ? 'a component' : `${problems.length} components`} of the plan: ${problems[0]!}`,
      {
        details: [
          ...problems.slice(1),
          'Nothing was started or changed. Free some, ask for less (memory, cpu, replicas), or deploy anyway with --ignore-capacity.',
        ],
      },
    );
  }
}

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

/**
 * The machine refused: a full disk, a read-only file system, missing permissions, too many open
 * files. Those are the user's environment to fix, never reported as a bug in deployer.
 */
export class MachineFaultError extends DeployerError {
  /** The file or directory the machine refused, when known. */
  readonly path: string | undefined;
  /** The system's own code: ENOSPC, EROFS, EACCES, SQLITE_FULL ... */
  readonly systemCode: string;

  constructor(systemCode: string, what: string, where: string | undefined, cause?: unknown) {
    const fault = MACHINE_FAULTS[systemCode] ?? {
      says: `the system refused (${systemCode})`,
      fix: 'Fix the machine and run the command again.',
    };
    super('MACHINE_FAULT', `${what}: ${fault.says}${where ? ` at ${where}` : ''} (${systemCode})`, {
      cause,
      details: [
        fault.fix,
        'This is the machine, not a bug in deployer; what was already recorded stays as it was, and the command can be run again once it is fixed.',
      ],
    });
    this.path = where;
    this.systemCode = systemCode;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), path: this.path ?? null, systemCode: this.systemCode };
  }
}

const FULL = {
  says: 'no space is left on the device',
  fix: 'Free space on that file system (or point deployer at another one) and run the command again.',
};
const READ_ONLY = {
  says: 'the file system is read-only',
  fix: 'Make that location writable (or point deployer at a writable one) and run the command again.',
};
const DENIED = {
  says: 'permission denied',
  fix: 'Give the user running deployer access to that location (or point deployer at another one) and run the command again.',
};
const MACHINE_FAULTS: Record<string, { says: string; fix: string }> = {
  ENOSPC: FULL,
  EDQUOT: { says: 'the disk quota is used up', fix: FULL.fix },
  SQLITE_FULL: FULL,
  EROFS: READ_ONLY,
  SQLITE_READONLY: READ_ONLY,
  EACCES: DENIED,
  EPERM: { says: 'the operation is not permitted', fix: DENIED.fix },
  SQLITE_PERM: DENIED,
  SQLITE_CANTOPEN: {
    says: 'the database file cannot be opened',
    fix: 'Check that its directory exists, is writable and has free space, then run the command again.',
  },
  EMFILE: { says: 'too many files are open', fix: 'Raise the limit of open files (ulimit -n) and run the command again.' },
  ENFILE: {
    says: 'the system has too many files open',
    fix: 'Close other programs or raise the system limit, then run the command again.',
  },
  EIO: { says: 'the device reported an I/O error', fix: 'Check the disk (dmesg) and run the command again.' },
  SQLITE_IOERR: {
    says: 'the device reported an I/O error',
    fix: 'Check the disk, its free space and permissions, then run the command again.',
  },
};

/**
 * `err` as a MachineFaultError when it is the machine refusing (a Node system error, or an
 * SQLite one, whose code says so); undefined otherwise. `where` names the location when the
 * error does not (SQLite's errors name no file).
 */
export function machineFault(err: unknown, what: string, where?: string): MachineFaultError | undefined {
  if (err instanceof MachineFaultError) return err;
  const e = err as { code?: unknown; path?: unknown } | null;
  if (typeof e?.code !== 'string') return undefined;
  // SQLite's extended codes (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE ...) share their primary code's meaning.
  const code = e.code.startsWith('SQLITE_') ? e.code.split('_').slice(0, 2).join('_') : e.code;
  if (!(code in MACHINE_FAULTS)) return undefined;
  return new MachineFaultError(code, what, typeof e.path === 'string' ? e.path : where, err);
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
