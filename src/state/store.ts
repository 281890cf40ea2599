import type { StackState } from '../model/state.js';

/** One stored version of a stack's state. */
export interface HistoryEntry {
  serial: number;
  /** When this version was replaced by the next one (the history copy was written). */
  savedAt: Date;
}

/**
 * Where a stack's state lives. Layout, whatever the medium:
 * `stacks/{stack}/{env}/state.json`, `history/{serial}.json`, and a digest.
 *
 * Contract (checked by `store.contract.ts` against every implementation):
 * - `read` returns undefined when no state was ever written, and fails with
 *   StateCorruptError rather than returning state whose digest does not match.
 * - `write(next)` accepts `next` only when `next.serial` equals the stored serial (or 0 with
 *   no stored state) and the lineage matches; it stores `serial + 1`, first copying the
 *   previous version to history, and returns what it stored. Otherwise: StateConflictError.
 * - A current state whose digest does not match is never read nor written over (StateCorruptError);
 *   its history stays readable and `restore` replaces it.
 * - Writes are not safe against other processes by themselves: callers hold the stack's lock.
 */
export interface StateStore {
  /** Where the state is, for messages (e.g. `file:///srv/app/.deployer`). */
  readonly url: string;
  /** The flags that point a deployer command, run where the user is, at this state (`-C ../shop`), for hints. */
  cliFlags: string;
  /** The directory of the state when it lives on this machine's disk (the passphrase is kept there). */
  readonly localRoot?: string;
  /** Pulumi backend URL for the components' checkpoints: `stacks/{stack}/{env}/pulumi/` beside the state. */
  pulumiBackend(stack: string, env: string): string;
  read(stack: string, env: string): Promise<StackState | undefined>;
  write(next: StackState): Promise<StackState>;
  history(stack: string, env: string): Promise<HistoryEntry[]>;
  /**
   * Version `serial` (the current one, or from history), verified: StateCorruptError when it was
   * changed or cut short; undefined when there is none. Works when the current state is damaged.
   */
  readVersion(stack: string, env: string, serial: number): Promise<StackState | undefined>;
  /**
   * Makes `version` current whatever the current state is: an intact one goes to history as a
   * write would do, a damaged one is set aside; the new serial is above every serial known.
   */
  restore(stack: string, env: string, version: StackState): Promise<RestoreResult>;
}

/** What `StateStore.restore` stored, and where the damaged version it replaced went. */
export interface RestoreResult {
  stored: StackState;
  /** Where the damaged current state was set aside, when there was one. */
  damagedKeptAt?: string;
}

/** History is kept 90 days, and never fewer than the last 10 versions. */
export const HISTORY_RETENTION_DAYS = 90;
export const HISTORY_KEEP_AT_LEAST = 10;

/** The history serials a store may delete now (pure; shared by every implementation). */
export function prunableHistory(entries: HistoryEntry[], now: Date): number[] {
  const newestFirst = [...entries].sort((a, b) => b.serial - a.serial);
  const cutoff = now.getTime() - HISTORY_RETENTION_DAYS * 24 * 3600 * 1000;
  return newestFirst
    .slice(HISTORY_KEEP_AT_LEAST)
    .filter((e) => e.savedAt.getTime() < cutoff)
    .map((e) => e.serial);
}
