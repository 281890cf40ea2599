/**
 * The objects of a shared operation's transient stack in Pulumi's backend, and their recovery.
 * A batch first records its members (`.pulumi/deployer-batches/<op>.json`, which Pulumi never
 * reads), then writes the merged checkpoint; afterwards it splits the checkpoint back into each
 * member's and removes the op's objects, the member record last. So whatever point a kill stops
 * it at, the record says which components a later run must bring up to date from the op's
 * checkpoint (Pulumi wrote every step there) — including a member whose resources the op had
 * already deleted, which the checkpoint itself no longer names.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { backendObjects, type BackendObjects } from './backend-objects.js';
import { membersOf, splitCheckpoint, type CheckpointFile } from './batch-checkpoint.js';
import { removeStackObjects, stackPaths } from './checkpoint-objects.js';
import { clearPulumiLocks, removeCutShortWrites, repairCheckpoint } from './pulumi-locks.js';

/** What the op's objects need to know of the engine. */
export interface OpStore {
  backendUrl: string;
  project: string;
  /** The op stack's workspace directory. */
  workDir(stackName: string): string;
}

export const OP_PREFIX = 'deployer-batch.';
const RECORDS = '.pulumi/deployer-batches';
const recordOf = (op: string): string => `${RECORDS}/${op}.json`;

/** The ops this process is running now: never "recovered" by its own other batches. */
const live = new Set<string>();

/** For tests: the op as a process that has died left it (no longer one of this process's). */
export function forgetLiveOp(op: string): void {
  live.delete(op);
}

/** Records the op's members, then writes its merged checkpoint (the op is live from here on). */
export async function writeOp(objects: BackendObjects, s: OpStore, op: string, members: string[], merged: CheckpointFile): Promise<void> {
  live.add(op);
  if ((await objects.read('.pulumi/meta.yaml')) === undefined) await objects.write('.pulumi/meta.yaml', 'version: 1\n'); // as Pulumi marks a new backend
  await objects.write(recordOf(op), JSON.stringify({ members, pid: process.pid, startedAt: new Date().toISOString() }));
  await objects.write(stackPaths(s.project, op).checkpoint, JSON.stringify(merged));
}

/**
 * The op's checkpoint back into each member's, then the op's objects removed (the checkpoint and
 * the member record last). Resolves to the members that still have resources.
 */
export async function splitBack(objects: BackendObjects, s: OpStore, op: string, members: string[]): Promise<Set<string>> {
  const remaining = new Set<string>();
  try {
    const text = await objects.read(stackPaths(s.project, op).checkpoint);
    if (text !== undefined) {
      const parts = splitCheckpoint(op, s.project, JSON.parse(text) as CheckpointFile, members);
      for (const member of members) {
        const part = parts.get(member);
        if (part) remaining.add(member);
        await writeMember(objects, s, member, part);
      }
    }
    const paths = stackPaths(s.project, op);
    await objects.removeAll(paths.history);
    await objects.removeAll(paths.backups);
    await objects.removeAll(paths.locks);
    await objects.remove(`${paths.checkpoint}.bak`);
    await fs.rm(s.workDir(op), { recursive: true, force: true });
    await objects.remove(paths.checkpoint);
    await objects.remove(recordOf(op));
  } finally {
    live.delete(op);
  }
  return remaining;
}

async function writeMember(objects: BackendObjects, s: OpStore, member: string, part: CheckpointFile | undefined): Promise<void> {
  const rel = stackPaths(s.project, member).checkpoint;
  const previous = await objects.read(rel);
  if (part === undefined) {
    if (previous !== undefined) await removeStackObjects(s.backendUrl, s.project, member);
    return;
  }
  // As Pulumi does: the checkpoint before this write beside it, this one in the stack's history
  // (a write cut short is repaired from them, pulumi-locks.ts).
  const body = JSON.stringify(part);
  if (previous !== undefined) await objects.write(`${rel}.bak`, previous);
  await objects.write(`${stackPaths(s.project, member).history}/${member}-${historyStamp()}.checkpoint.json`, body);
  await objects.write(rel, body);
}

interface DeadOp {
  op: string;
  members: string[];
}

/** Ops whose member record is in the backend and that this process is not running. */
async function deadOps(objects: BackendObjects): Promise<DeadOp[]> {
  const out: DeadOp[] = [];
  for (const rel of await objects.list(RECORDS, '.json')) {
    const op = path.posix.basename(rel, '.json');
    if (!op.startsWith(OP_PREFIX) || live.has(op)) continue;
    try {
      const record = JSON.parse((await objects.read(rel)) ?? '{}') as { members?: string[] };
      out.push({ op, members: record.members ?? [] });
    } catch {
      out.push({ op, members: [] }); // a record cut short: the op's checkpoint still names its members
    }
  }
  return out;
}

/**
 * Ops a killed run (or a run whose split failed) left in the backend, split back into their
 * members' checkpoints before any member is touched again. Under a stack lock only this run may
 * operate on the stack, so an op it is not running is dead.
 */
export async function recoverDeadOps(objects: BackendObjects, s: OpStore, notice: (message: string) => void): Promise<void> {
  for (const { op, members: recorded } of await deadOps(objects)) {
    const of = `${op}, the shared operation of ${recorded.join(', ') || 'no component'}`;
    await clearPulumiLocks(s.backendUrl, s.project, op, {
      onWait: (l) => notice(`waiting for an earlier pulumi (pid ${l.pid} on ${l.hostname}) to release ${of}`),
      onRemoved: (l) => notice(`removed the lock a killed pulumi (pid ${l.pid}) left on ${of}`),
    });
    await removeCutShortWrites(s.backendUrl, s.project, op);
    const state = (await repairCheckpoint(s.backendUrl, s.project, op)).state;
    const text = state === 'absent' ? undefined : await objects.read(stackPaths(s.project, op).checkpoint);
    // Without a checkpoint (removed just before the record): the members are already up to date.
    const members = text === undefined ? [] : [...new Set([...recorded, ...membersOf(JSON.parse(text) as CheckpointFile)])];
    await splitBack(objects, s, op, members);
    if (members.length > 0)
      notice(`an interrupted run left ${members.length} component(s) in ${op}: their checkpoints are brought up to date from it`);
  }
}

/**
 * The member's checkpoint as a batch still holds it (one running now, or one a killed run left),
 * without changing anything: what a read-only look (drift) must see instead of the member's own.
 */
export async function batchedCheckpoint(backendUrl: string, project: string, member: string): Promise<CheckpointFile | undefined> {
  const objects = backendObjects(backendUrl);
  if (!objects) return undefined;
  for (const rel of await objects.list(RECORDS, '.json')) {
    const op = path.posix.basename(rel, '.json');
    const text = await objects.read(stackPaths(project, op).checkpoint);
    if (text === undefined) continue;
    try {
      const part = splitCheckpoint(op, project, JSON.parse(text) as CheckpointFile, [member]).get(member);
      if (part) return part;
    } catch {
      // cut short: the next run repairs it
    }
  }
  return undefined;
}

/** Nanoseconds since the epoch, as Pulumi names history entries (all of one length: newest sorts last). */
let lastStamp = 0n;
function historyStamp(): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  lastStamp = now > lastStamp ? now : lastStamp + 1n;
  return lastStamp.toString();
}
