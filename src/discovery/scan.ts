/**
 * Finds the YAML files of a stack directory. Base documents are everywhere except under
 * `environments/`; overlays are under `environments/<env>/`. Hidden directories,
 * `node_modules` and `.deployer` are skipped, and whatever `.deployerignore` (gitignore
 * syntax, at the stack root) names. Symlinked directories are followed once (no loops);
 * files that vanish during the scan are simply not there.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import type { ValidationProblem } from '../errors.js';

export interface ScannedFiles {
  base: string[];
  /** environment name -> overlay files */
  overlays: Map<string, string[]>;
  /** Problems of the tree itself (an unreadable .deployerignore). */
  problems: ValidationProblem[];
}

const SKIPPED_DIRS = new Set(['node_modules', '.git', '.deployer']);
export const IGNORE_FILE = '.deployerignore';

function isYaml(name: string): boolean {
  return name.endsWith('.yaml') || name.endsWith('.yml');
}

async function readIgnore(root: string, problems: ValidationProblem[]): Promise<Ignore> {
  const ig = ignore();
  try {
    ig.add(await fs.readFile(path.join(root, IGNORE_FILE), 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      problems.push({
        location: { file: path.join(root, IGNORE_FILE), line: 1, col: 1 },
        path: '',
        message: `cannot read ${IGNORE_FILE}: ${code}`,
        rule: 'ignore',
      });
  }
  return ig;
}

export async function scanStackDir(dir: string): Promise<ScannedFiles> {
  const root = path.resolve(dir);
  const base: string[] = [];
  const overlays = new Map<string, string[]>();
  const problems: ValidationProblem[] = [];
  const ig = await readIgnore(root, problems);
  const seen = new Set<string>();

  async function walk(current: string): Promise<void> {
    let real: string;
    try {
      real = await fs.realpath(current);
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await fs.readdir(current, { withFileTypes: true }).catch(() => []);
    const subdirs: string[] = [];
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      const rel = path.relative(root, full).split(path.sep).join('/');
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const st = await fs.stat(full).catch(() => undefined);
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) {
        if (SKIPPED_DIRS.has(entry.name) || entry.name.startsWith('.') || ig.ignores(`${rel}/`)) continue;
        subdirs.push(full);
      } else if (isFile && isYaml(entry.name) && !ig.ignores(rel)) {
        const parts = rel.split('/');
        if (parts[0] === 'environments' && parts.length >= 3) {
          const env = parts[1]!;
          overlays.set(env, [...(overlays.get(env) ?? []), full]);
        } else if (parts[0] !== 'environments') base.push(full);
      }
    }
    await Promise.all(subdirs.map(walk));
  }

  await walk(root);
  base.sort();
  for (const list of overlays.values()) list.sort();
  return { base, overlays, problems };
}
