/**
 * Pulumi's own locks on a component stack, in its DIY backend (`file://` or `s3://`):
 * `.pulumi/locks/organization/<project>/<stack>/<uuid>.json`, each naming the pid and host of
 * the `pulumi` process that took it. A deployer run that was killed leaves its `pulumi` child
 * behind, or that child's lock. deployer's own lock already keeps other deployer runs out, so
 * a Pulumi lock found now belongs to a dead run: removed at once when its process is known to be
 * gone from this host, waited for otherwise (it may still be finishing its operation).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeployerError } from '../errors.js';
import { s3Client } from '../util/aws.js';
import { isAlive } from '../util/process.js';

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
  const rel = ['.pulumi', 'locks', 'organization', project, stack];
  if (backendUrl.startsWith('file://')) {
    const dir = path.join(fileURLToPath(backendUrl.split('?')[0]!), ...rel);
    return {
      async list() {
        const names = await fs.readdir(dir).catch(() => [] as string[]);
        const out: PulumiLock[] = [];
        for (const n of names.filter((x) => x.endsWith('.json'))) {
          const l = parse(path.join(dir, n), await fs.readFile(path.join(dir, n), 'utf8').catch(() => ''));
          if (l) out.push(l);
        }
        return out;
      },
      async remove(lock) {
        await fs.rm(lock.location, { force: true });
        await fs.rm(`${lock.location}.attrs`, { force: true });
      },
    };
  }
  if (backendUrl.startsWith('s3://')) {
    const u = new URL(backendUrl);
    const q = u.searchParams;
    const host = q.get('endpoint');
    const endpoint = host ? `${q.get('disableSSL') === 'true' ? 'http' : 'https'}://${host}` : undefined;
    const client = s3Client({ region: q.get('region') ?? 'us-east-1', forcePathStyle: q.get('s3ForcePathStyle') === 'true', ...(endpoint ? { endpoint } : {}) });
    const bucket = u.hostname;
    const prefix = [u.pathname.replace(/^\/+|\/+$/g, ''), ...rel].filter(Boolean).join('/') + '/';
    return {
      async list() {
        const r = await (await client).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        const out: PulumiLock[] = [];
        for (const o of (r.Contents ?? []).filter((x) => x.Key?.endsWith('.json'))) {
          const obj = await (await client).send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! })).catch(() => undefined);
          const l = obj ? parse(o.Key!, await obj.Body!.transformToString()) : undefined;
          if (l) out.push(l);
        }
        return out;
      },
      async remove(lock) {
        await (await client).send(new DeleteObjectCommand({ Bucket: bucket, Key: lock.location }));
      },
    };
  }
  return undefined;
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
