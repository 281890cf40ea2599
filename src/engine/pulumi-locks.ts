/**
 * Pulumi's own locks on a component stack, in its DIY backend (`file://` or `s3://`):
 * `.pulumi/locks/organization/<project>/<stack>/<uuid>.json`, each naming the pid and host of
 * the `pulumi` process that took it. A deployer run that was killed leaves its `pulumi` child
 * behind, or that child's lock. deployer's own lock already keeps other deployer runs out, so
 * a Pulumi lock found now belongs to a dead run: removed at once when its process is known to be
 * gone from this host, waited for otherwise (it may still be finishing its operation).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { DeployerError } from '../errors.js';
import { isAlive } from '../util/process.js';
import { backendObjects } from './backend-objects.js';
import { stackPaths } from './checkpoint-objects.js';

export interface PulumiLock {
  /** Where it is (a path, or an S3 key), for messages and removal. */
  location: string;
  pid: number;
  hostname: string;
  timestamp: string;
}

interface LockStore {
  list(): Promise<PulumiLock[]>;
  remove(lock: PulumiLock): Promise<void>;
}

function parse(location: string, body: string): PulumiLock | undefined {
  try {
    const j = JSON.parse(body) as { pid?: number; hostname?: string; timestamp?: string };
    return { location, pid: j.pid ?? 0, hostname: j.hostname ?? '', timestamp: j.timestamp ?? '' };
  } catch {
    return undefined;
  }
}

function lockStore(backendUrl: string, project: string, stack: string): LockStore | undefined {
  const objects = backendObjects(backendUrl);
  if (!objects) return undefined;
  const dir = stackPaths(project, stack).locks;
  return {
    async list() {
      const out: PulumiLock[] = [];
      for (const rel of await objects.list(dir, '.json')) {
        const l = parse(rel, (await objects.read(rel)) ?? '');
        if (l) out.push(l);
      }
      return out;
    },
    remove: (lock) => objects.remove(lock.location),
  };
}

export type CheckpointRepair = { state: 'intact' } | { state: 'absent' } | { state: 'restored'; from: string };

/**
 * A checkpoint that does not parse — Pulumi's write of it cut short by a full disk, a killed run,
 * storage that does not write objects whole — would fail every later operation on the component
 * ("failed to load checkpoint"). Pulumi keeps earlier copies: `<stack>.json.bak` (the checkpoint
 * before its last write), then the checkpoints of its history and its backups, newest first. The
 * newest of them that parses is put back (the engine then refreshes the stack against what really
 * exists). Returns what it did; an error when no copy is usable.
 */
export async function repairCheckpoint(backendUrl: string, project: string, stack: string): Promise<CheckpointRepair> {
  const objects = backendObjects(backendUrl);
  if (!objects) return { state: 'intact' };
  const rel = stackPaths(project, stack).checkpoint;
  const current = await objects.read(rel);
  if (current === undefined) return { state: 'absent' };
  if (parses(current)) return { state: 'intact' };
  for (const candidate of await earlierCopies(objects, rel, project, stack)) {
    const body = await objects.read(candidate);
    if (body === undefined || !parses(body)) continue;
    await objects.write(rel, body);
    return { state: 'restored', from: objects.where(candidate) };
  }
  throw new DeployerError(
    'ENGINE_FAILED',
    `the Pulumi checkpoint of ${stack} is damaged (${objects.where(rel)}), and no earlier copy of it is usable`,
    {
      details: ["Restore it from your bucket's versioning, or remove it and `deployer state rm` the component to adopt it again."],
    },
  );
}

/** Where Pulumi keeps earlier copies of a checkpoint, the likeliest newest first. */
async function earlierCopies(
  objects: NonNullable<ReturnType<typeof backendObjects>>,
  rel: string,
  project: string,
  stack: string,
): Promise<string[]> {
  // Their names end with a timestamp in nanoseconds, all of the same length: newest sorts last.
  const newestFirst = (names: string[]): string[] => [...names].sort().reverse();
  return [
    `${rel}.bak`,
    ...newestFirst(await objects.list(stackPaths(project, stack).history, '.checkpoint.json')),
    ...newestFirst(await objects.list(stackPaths(project, stack).backups, '.json')),
  ];
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export interface ClearOptions {
  /** Called once when it starts waiting for a live holder. */
  onWait?: (lock: PulumiLock) => void;
  /** Called for each lock of a dead process it removed. */
  onRemoved?: (lock: PulumiLock) => void;
  timeoutMs?: number;
}

/** Removes locks of dead local `pulumi` processes; waits for the others; fails after the timeout. */
export async function clearPulumiLocks(backendUrl: string, project: string, stack: string, o: ClearOptions = {}): Promise<number> {
  const store = lockStore(backendUrl, project, stack);
  if (!store) return 0;
  const deadline = Date.now() + (o.timeoutMs ?? 5 * 60_000);
  let removed = 0;
  let announced = false;
  while (true) {
    const live: PulumiLock[] = [];
    for (const lock of await store.list()) {
      if (lock.hostname === os.hostname() && !isAlive(lock.pid)) {
        await store.remove(lock);
        o.onRemoved?.(lock);
        removed++;
      } else live.push(lock);
    }
    if (live.length === 0) return removed;
    const first = live[0]!;
    if (Date.now() >= deadline) {
      throw new DeployerError(
        'ENGINE_FAILED',
        `the Pulumi stack ${stack} is locked by pulumi (pid ${first.pid} on ${first.hostname}) since ${first.timestamp}`,
        {
          details: [
            'That is a Pulumi operation of an earlier deployer run that did not finish. If it is dead, remove its lock:',
            `  ${first.location}`,
          ],
        },
      );
    }
    if (!announced) {
      o.onWait?.(first);
      announced = true;
    }
    await sleep(1000);
  }
}

/**
 * Temporary files a write cut short left in a file backend: Pulumi writes each object to
 * `<name>.<random>.tmp` and renames it, and a full disk or a kill between the two leaves the
 * temporary file behind. Pulumi then reads an empty one in its lock directory as a lock and fails
 * every later operation ("unexpected end of JSON input"). Removed before the next operation (by
 * then no live pulumi of ours writes this stack); returns what was removed.
 */
export async function removeCutShortWrites(backendUrl: string, project: string, stack: string): Promise<string[]> {
  if (!backendUrl.startsWith('file://')) return []; // S3 writes objects whole
  const objects = backendObjects(backendUrl);
  if (!objects) return [];
  const paths = stackPaths(project, stack);
  const dirs = [paths.locks, paths.stacks, paths.history, paths.backups];
  const removed: string[] = [];
  for (const dir of dirs) {
    for (const rel of await objects.list(dir, '.tmp')) {
      // In the shared stacks directory, only this stack's own (Pulumi's `<stack>.json.<random>.tmp`,
      // deployer's own repair writes `.<stack>.json.<pid>.<random>.tmp`).
      const name = path.posix.basename(rel);
      if (dir === paths.stacks && !name.startsWith(`${stack}.`) && !name.startsWith(`.${stack}.`)) continue;
      await objects.remove(rel);
      removed.push(objects.where(rel));
    }
  }
  return removed;
}
