import { DeployerError } from '../errors.js';
import type { StackState } from '../model/state.js';

/** A write based on a version that is no longer the stored one. */
export class StateConflictError extends DeployerError {
  constructor(message: string) {
    super('STATE_CONFLICT', message);
  }
}

/** Checks that `next` was derived from `current`; shared by every StateStore. */
export function checkSuccessor(current: StackState | undefined, next: StackState): void {
  if (!current) {
    if (next.serial !== 0) throw new StateConflictError(`no state is stored, but the write is based on serial ${next.serial}`);
    return;
  }
  if (current.lineage !== next.lineage) {
    throw new StateConflictError(`state lineage ${next.lineage} does not match the stored lineage ${current.lineage}`);
  }
  if (current.serial !== next.serial) {
    throw new StateConflictError(`state moved on: stored serial is ${current.serial}, the write is based on ${next.serial}`);
  }
}
