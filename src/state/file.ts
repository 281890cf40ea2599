/** The state on a local directory (the default: `.deployer/` inside the stack directory). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-write.js';
import type { BlobEntry, BlobStore } from './blobs.js';
import { VersionedStateStore, type VersionedOptions } from './versioned.js';

/** Objects as files under `root` (a key's `/` are directories), each written atomically. */
export class FileBlobs implements BlobStore {
  readonly url: string;
  readonly staleReadAttempts = 1;

  constructor(readonly localRoot: string) {
    this.url = pathToFileURL(localRoot).href;
  }

  private file(key: string): string {
    return path.join(this.localRoot, ...key.split('/'));
  }

  pulumiBackend(stack: string, env: string): string {
    return pathToFileURL(this.file(`stacks/${stack}/${env}/pulumi`)).href;
  }

  where(key: string): string {
    return this.file(key);
  }

  get(key: string): Promise<Buffer | undefined> {
    return readFileIfExists(this.file(key));
  }

  put(key: string, body: string | Buffer): Promise<void> {
    return writeFileAtomic(this.file(key), body);
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async list(prefix: string): Promise<BlobEntry[]> {
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const dir = this.file(dirKey);
    const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    const out: BlobEntry[] = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith('.')) continue; // a temporary file of a write in progress
      const full = path.join(e.parentPath, e.name);
      const key = dirKey + path.relative(dir, full).split(path.sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const st = await fs.stat(full).catch(() => undefined);
      if (st) out.push({ key, modified: st.mtime });
    }
    return out;
  }
}

export class FileStateStore extends VersionedStateStore {
  constructor(root: string, options: VersionedOptions = {}) {
    super(new FileBlobs(root), options);
  }
}
