/**
 * An artifact as a directory on this machine, what the local target runs: its files under
 * `.deployer/artifacts/<digest>/` at their paths in the build context. Written into a temporary
 * directory and renamed into place, so a directory that exists is complete; every blob is
 * checked against its sha256 on the way (a damaged cache is refused, not run).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DeployerError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import type { BuildCache, ArtifactManifest } from './cache.js';

/** Where artifacts are unpacked for the stack in `stackDir`. */
export function artifactsRoot(stackDir: string): string {
  return path.join(stackDir, '.deployer', 'artifacts');
}

/** The directory of `manifest`'s files under `root`, unpacked from the cache if it is not there yet. */
export async function materialize(manifest: ArtifactManifest, cache: BuildCache, root: string): Promise<string> {
  const dir = path.join(root, manifest.digest.replace(/^sha256:/, ''));
  if (await exists(dir)) return dir;
  await fs.mkdir(root, { recursive: true });
  const tmp = path.join(root, `.partial-${randomUUID()}`);
  try {
    for (const f of manifest.files) {
      const body = await cache.blob(f.sha256);
      if (!body || sha256(body) !== f.sha256) {
        throw new DeployerError(
          'STATE_CORRUPT',
          `the build cache at ${cache.where} is damaged: ${f.path} of ${manifest.digest} is ${body ? 'changed' : 'missing'}`,
          {
            details: [
              `Its blob ${f.sha256} does not match. Delete ${cache.where}artifacts/${manifest.key}.json and apply again to rebuild it.`,
            ],
          },
        );
      }
      const target = path.join(tmp, ...f.path.split('/'));
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, body, { mode: f.mode });
    }
    await fs.mkdir(tmp, { recursive: true });
    await fs.rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another run unpacked the same artifact first: theirs is as good as ours.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

async function exists(dir: string): Promise<boolean> {
  return fs.stat(dir).then(
    () => true,
    () => false,
  );
}
