/** The state in memory, for tests of the layers above (the same contract as the others). */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BlobEntry, BlobStore } from './blobs.js';
import { VersionedStateStore, type VersionedOptions } from './versioned.js';

export class MemoryBlobs implements BlobStore {
  readonly url = 'memory://';
  readonly staleReadAttempts = 1;
  private readonly objects = new Map<string, { body: Buffer; modified: Date }>();

  /** The Pulumi checkpoints of a memory state still live on disk, under `pulumiRoot`. */
  constructor(private readonly pulumiRoot = path.join(os.tmpdir(), 'deployer-memory-state')) {}

  pulumiBackend(stack: string, env: string): string {
    return pathToFileURL(path.join(this.pulumiRoot, 'stacks', stack, env, 'pulumi')).href;
  }

  where(key: string): string {
    return `memory://${key}`;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const o = this.objects.get(key);
    return o ? Buffer.from(o.body) : undefined;
  }

  async put(key: string, body: string | Buffer): Promise<void> {
    this.objects.set(key, { body: Buffer.from(body), modified: new Date() });
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async list(prefix: string): Promise<BlobEntry[]> {
    return [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([key, o]) => ({ key, modified: o.modified }));
  }
}

export class MemoryStateStore extends VersionedStateStore {
  /** The objects, shared with a second store to see the same state through another clock. */
  readonly objects: MemoryBlobs;

  constructor(pulumiRootOrBlobs?: string | MemoryBlobs, options: VersionedOptions = {}) {
    const blobs = pulumiRootOrBlobs instanceof MemoryBlobs ? pulumiRootOrBlobs : new MemoryBlobs(pulumiRootOrBlobs);
    super(blobs, options);
    this.objects = blobs;
  }
}
