import { StateCorruptError } from '../errors.js';
import type { StackState } from '../model/state.js';

/** Parses a stored state (or history) document; `where` names it in the error. */
export function parseState(body: Buffer, where: string): StackState {
  try {
    return JSON.parse(body.toString('utf8')) as StackState;
  } catch (err) {
    throw new StateCorruptError(`state ${where} is not valid JSON: ${(err as Error).message}`);
  }
}
