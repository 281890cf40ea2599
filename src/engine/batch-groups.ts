/**
 * How gathered members become operations, decided without touching anything: which members may
 * share one secrets manager (groupBySalt), the delete order inside a group (ordered), and how a
 * large group is shared out among operations that run at once (shareOut). batch-operation.ts
 * runs what these decide.
 */
import { holdsSecrets, saltOf, type CheckpointFile } from './batch-checkpoint.js';

/** What the grouping needs of a gathered member (batch-operation.ts BatchMember). */
export interface GroupedMember {
  kind: 'up' | 'destroy';
  o: { stackName: string; after?: readonly string[] };
}

/** The stacks a destroy must follow (their destroys end first); a deployment follows none. */
export const afterOf = (m: GroupedMember): readonly string[] => (m.kind === 'destroy' ? (m.o.after ?? []) : []);

const stackOf = (e: { m: GroupedMember }): string => e.m.o.stackName;

/** Members whose checkpoints hold secrets under different salts cannot share one secrets manager. */
export function groupBySalt<T extends { checkpoint: CheckpointFile | undefined }>(members: T[]): T[][] {
  const groups = new Map<string, T[]>();
  const free: T[] = [];
  for (const e of members) {
    const salt = holdsSecrets(e.checkpoint) ? saltOf(e.checkpoint) : undefined;
    if (salt === undefined) free.push(e);
    else groups.set(salt, [...(groups.get(salt) ?? []), e]);
  }
  const all = [...groups.values()];
  if (all.length === 0) return free.length > 0 ? [free] : [];
  all[0]!.push(...free);
  return all;
}

/**
 * A group in delete order (a destroy before those it must follow: Pulumi needs what a resource
 * depends on listed first), less the destroys that must follow one outside the group: those wait
 * for it and run alone (`later`).
 */
export function ordered<T extends { m: GroupedMember }>(group: T[]): { together: T[]; later: T[] } {
  const inside = new Map(group.map((e) => [stackOf(e), e]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [stack, e] of inside)
      if (afterOf(e.m).some((a) => !inside.has(a))) {
        inside.delete(stack);
        changed = true;
      }
  }
  // Reverse post-order over `after`: each destroy lands before every destroy it must follow.
  const postOrder: T[] = [];
  const placed = new Set<string>();
  const place = (e: T): void => {
    if (placed.has(stackOf(e))) return;
    placed.add(stackOf(e));
    for (const a of afterOf(e.m)) place(inside.get(a)!);
    postOrder.push(e);
  };
  for (const e of inside.values()) place(e);
  const together = postOrder.reverse();
  return { together, later: group.filter((e) => !inside.has(stackOf(e))) };
}

/** From this many members free to start, a group is shared out among several operations. */
export const SHARE_OUT_FROM = 64;

/** A group as operations: those that start at once, and the members that go after them. */
export interface SharedOut<T> {
  now: T[][];
  /** Destroys that must follow one of `now`'s: they start once those have ended (shared out in turn). */
  next: T[];
}

/**
 * A group's members (in delete order) as the operations that run them. Pulumi writes an
 * operation's whole checkpoint after every step, so its cost grows with the square of its
 * resources: a first apply of 200 components, 198 of them ready together, took 14.5 s with those
 * in one operation and 11.1 s with them in two at once on two cores (docs/performance.md). So when
 * at least SHARE_OUT_FROM members follow no other member of the group (deployments, and destroys
 * of components nothing left in the group depended on), those are split into `parts` of about
 * equal size that run at once, and the destroys that must follow them go `next`, in their order.
 * A smaller group, or one whose members mostly follow each other, stays one operation: its order
 * lives inside it (batch-checkpoint.ts orderDeletes).
 */
export function shareOut<T extends { m: GroupedMember }>(together: T[], parts: number): SharedOut<T> {
  if (together.length === 0) return { now: [], next: [] };
  const inside = new Set(together.map(stackOf));
  const follows = (e: T): boolean => afterOf(e.m).some((a) => inside.has(a));
  const free = together.filter((e) => !follows(e));
  if (free.length < SHARE_OUT_FROM || parts < 2) return { now: [together], next: [] };
  const size = Math.ceil(free.length / parts);
  const now: T[][] = [];
  for (let i = 0; i < free.length; i += size) now.push(free.slice(i, i + size));
  return { now, next: together.filter(follows) };
}

/**
 * Members that were to follow destroys of earlier operations, once `stopped` (those that may not
 * run: one they follow failed, or the run was told to stop) is known: the members behind a
 * stopped one, directly or through another, and the others, each list in its order. `next` is in
 * delete order: a member comes before every member it follows.
 */
export function behindStopped<T extends { m: GroupedMember }>(next: T[], stopped: ReadonlySet<string>): { go: T[]; behind: T[] } {
  const blocked = new Set(stopped);
  const behind = new Set<string>();
  for (const e of [...next].reverse())
    if (!blocked.has(stackOf(e)) && afterOf(e.m).some((a) => blocked.has(a))) {
      blocked.add(stackOf(e));
      behind.add(stackOf(e));
    }
  return {
    go: next.filter((e) => !blocked.has(stackOf(e))),
    behind: next.filter((e) => behind.has(stackOf(e))),
  };
}
