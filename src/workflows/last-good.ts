/**
 * What `deployer rollback --last-good` goes back to: the newest version *before the current
 * one* that a run ended with, whose run succeeded, and that was not itself rolled back — the
 * previous good release, as Helm's `rollback` (previous revision) and Argo CD's history mean it.
 *
 * Every state write is a version, and a run writes several (one per component, then its mark),
 * each carrying the mark (`lastRun`) of the newest finished run. So the version a run ended
 * with is the first one that carries its mark; the versions after it, until the next run's
 * mark, are that next run's work in progress. A version with the same components as the current
 * one is not "before" it, whatever its serial.
 */
import type { StackState } from '../model/state.js';
import type { StateStore } from '../state/index.js';

/** A run's final version, as the history shows it. */
interface RunEnd {
  serial: number;
  state: StackState;
}

/** What the components of a version are, for telling two versions apart. */
export function contentOf(s: StackState): string {
  return (
    Object.entries(s.components)
      .filter(([, c]) => c.status !== 'create-failed')
      // A component whose last deployment failed is not the same as one deployed at that spec.
      .map(([id, c]) => `${id}:${c.specHash}:${c.status}`)
      .sort()
      .join('\n')
  );
}

/**
 * The version each run ended with, oldest first: the one its mark names (`lastRun.serial`); for
 * marks that do not name it, the first version carrying the mark, when the version before it is
 * known to be its predecessor — a version that cannot be read (pruned, damaged) must never make
 * the next run's work in progress look like a run's end.
 */
function runEnds(versions: StackState[]): RunEnd[] {
  const ends: RunEnd[] = [];
  let previous: StackState | undefined;
  for (const v of versions) {
    const mark = v.lastRun;
    if (mark) {
      const isEnd =
        mark.serial !== undefined ? mark.serial === v.serial : mark.id !== previous?.lastRun?.id && previous?.serial === v.serial - 1;
      if (isEnd) ends.push({ serial: v.serial, state: v });
    }
    previous = v;
  }
  return ends;
}

/**
 * Runs whose result a later rollback undid: those that ended after the version the rollback
 * restored (its mark says which) and before the rollback itself; for a mark that does not say,
 * the run just before the rollback.
 */
function undone(ends: RunEnd[]): Set<string> {
  const out = new Set<string>();
  ends.forEach((end, i) => {
    const mark = end.state.lastRun!;
    if (mark.operation !== 'rollback' || !mark.ok) return;
    const from = mark.restored;
    for (let j = i - 1; j >= 0; j--) {
      if (from !== undefined ? ends[j]!.serial <= from : j < i - 1) break;
      out.add(ends[j]!.state.lastRun!.id);
    }
  });
  return out;
}

/** The serial `--last-good` restores, or undefined when the current version is the only good one. */
export async function lastGoodSerial(store: StateStore, current: StackState): Promise<number | undefined> {
  const versions: StackState[] = [];
  for (const h of await store.history(current.stack, current.environment)) {
    if (h.serial >= current.serial) continue;
    const v = await store.readVersion(current.stack, current.environment, h.serial).catch(() => undefined);
    if (v) versions.push(v);
  }
  versions.push(current);
  const ends = runEnds(versions);
  const rolledBack = undone(ends);
  const now = contentOf(current);
  for (const end of [...ends].reverse()) {
    const mark = end.state.lastRun!;
    if (mark.id === current.lastRun?.id && end.serial === current.serial) continue;
    if (!mark.ok || mark.rolledBack || rolledBack.has(mark.id)) continue;
    if (contentOf(end.state) === now) continue;
    return end.serial;
  }
  return undefined;
}
