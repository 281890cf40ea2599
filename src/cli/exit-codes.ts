/**
 * The only place where errors become exit codes (documented in README and `deployer --help`).
 *   0 ok · 1 failed · 2 invalid input · 3 lock held · 4 changes or drift present
 */
import type { ErrorCode } from '../errors.js';

export const EXIT = { ok: 0, failed: 1, invalid: 2, lockHeld: 3, changes: 4 } as const;

const BY_CODE: Record<ErrorCode, number> = {
  INVALID_INPUT: EXIT.invalid,
  VALIDATION_FAILED: EXIT.invalid,
  LOCK_HELD: EXIT.lockHeld,
  LOCK_LOST: EXIT.failed,
  LOCK_NOT_FOUND: EXIT.failed,
  STATE_CORRUPT: EXIT.failed,
  STATE_CONFLICT: EXIT.failed,
  LEDGER_TAMPERED: EXIT.failed,
  LEDGER_UNAVAILABLE: EXIT.failed,
  STALE_PLAN: EXIT.invalid,
  PULUMI_UNAVAILABLE: EXIT.failed,
  ENGINE_FAILED: EXIT.failed,
  APPLY_FAILED: EXIT.failed,
  BUILD_FAILED: EXIT.failed,
  GATE_REFUSED: EXIT.failed,
  PORT_IN_USE: EXIT.failed,
  CAPACITY_EXCEEDED: EXIT.failed,
  CANCELLED: EXIT.failed,
  MACHINE_FAULT: EXIT.failed,
  INTERNAL: EXIT.failed,
};

export function exitCodeFor(code: ErrorCode): number {
  return BY_CODE[code];
}

/** Whether a code carried as a string (a region's error in a multi-region outcome) is one of ours. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(BY_CODE, code);
}

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the operation failed (a component failed, its build failed or a release gate refused it, the engine failed, the machine refused: a full
     disk, no permission; the ledger's server unreachable; \`ledger verify\` found the ledger changed behind its back or its aggregates behind its records; or a bug)
  2  invalid input (flags, configuration, a stale saved plan; nothing was written)
  3  the lock is held by another run (its holder is printed)
  4  changes present (plan --detailed-exitcode), or drift found (drift)`;
