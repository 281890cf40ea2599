/**
 * Pulumi's own locks on a component stack, in its DIY backend (`file://` or `s3://`):
 * `.pulumi/locks/organization/<project>/<stack>/<uuid>.json`, each naming the pid and host of
 * the `pulumi` process that took it. A deployer run that was killed leaves its `pulumi` child
 * behind, or that child's lock. deployer's own lock already keeps other deployer runs out, so
 * a Pulumi lock found now belongs to a dead run: removed at once when its process is known to be
 * gone from this host, waited for otherwise (it may still be finishing its operation).
 */
import os from 'node:os';
import { DeployerError } from '../errors.js';
import { isAlive } from '../util/process.js';
import { backendObjects } from './backend-objects.js';

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
  const dir = ['.pulumi', 'locks', 'organization', project, stack].join('/');
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

/**
 * A run killed while Pulumi wrote a component's checkpoint can leave it cut short on storage
 * that does not write objects whole (a local disk without a rename, some S3 clones). Pulumi keeps
 * the checkpoint before as `<stack>.json.bak`: when the current one does not parse and the
 * backup does, the backup is put back (the refresh that follows in recovery reconciles it with
 * what really exists). Returns what it did.
 */
export async function repairCheckpoint(backendUrl: string, project: string, stack: string): Promise<'intact' | 'restored' | 'absent'> {
  const objects = backendObjects(backendUrl);
  if (!objects) return 'intact';
  const rel = `.pulumi/stacks/${project}/${stack}.json`;
  const current = await objects.read(rel);
  if (current === undefined) return 'absent';
  if (parses(current)) return 'intact';
  const backup = await objects.read(`${rel}.bak`);
  if (backup === undefined || !parses(backup)) {
    throw new DeployerError('ENGINE_FAILED', `the Pulumi checkpoint of ${stack} is damaged (${objects.where(rel)}), and it has no usable backup`, {
      details: ['A run was killed while it wrote it. Restore it from your bucket\'s versioning, or remove it and `deployer state rm` the component to adopt it again.'],
    });
  }
  await objects.write(rel, backup);
  return 'restored';
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
      throw new DeployerError('ENGINE_FAILED', `the Pulumi stack ${stack} is locked by pulumi (pid ${first.pid} on ${first.hostname}) since ${first.timestamp}`, {
        details: ['That is a Pulumi operation of an earlier deployer run that did not finish. If it is dead, remove its lock:', `  ${first.location}`],
      });
    }
    if (!announced) {
      o.onWait?.(first);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
