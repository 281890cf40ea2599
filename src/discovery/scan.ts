/**
 * Finds the YAML files of a stack directory. Base documents are everywhere except under
 * `environments/`; overlays are under `environments/<env>/` for the chosen environment only.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface ScannedFiles {
  base: string[];
  /** environment name -> overlay files */
  overlays: Map<string, string[]>;
}

const SKIPPED_DIRS = new Set(['node_modules', '.git', '.deployer']);

function isYaml(name: string): boolean {
  return name.endsWith('.yaml') || name.endsWith('.yml');
}

/** Lists YAML files under `dir`, sorted; symlinked directories are followed once (no loops). */
export async function scanStackDir(dir: string): Promise<ScannedFiles> {
  const root = path.resolve(dir);
  const base: string[] = [];
  const overlays = new Map<string, string[]>();
  const seen = new Set<string>();

  async function walk(current: string): Promise<void> {
    let real: string;
    try {
      real = await fs.realpath(current);
    } catch {
      return; // vanished during the scan
    }
    if (seen.has(real)) return;
    seen.add(real);
    let entries;
    try {
      entries = await fs.readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const st = await fs.stat(full).catch(() => undefined);
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) {
        if (SKIPPED_DIRS.has(entry.name) || entry.name.startsWith('.')) continue;
        await walk(full);
      } else if (isFile && isYaml(entry.name)) {
        const rel = path.relative(root, full).split(path.sep);
        if (rel[0] === 'environments' && rel.length >= 3) {
          const env = rel[1]!;
          const list = overlays.get(env) ?? [];
          list.push(full);
          overlays.set(env, list);
        } else if (rel[0] !== 'environments') {
          base.push(full);
        }
      }
    }
  }

  await walk(root);
  base.sort();
  for (const list of overlays.values()) list.sort();
  return { base, overlays };
}
