/**
 * A lock race between processes (lock-race-run.mjs, shared with the benchmark), and the check
 * that the racers run a build no older than the sources.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, walk } from './testdir.js';

export { lockRace, overlaps, type Hold } from './lock-race-run.mjs';

/** The racers run dist/: refuse to race a copy of `layer` (src/<layer>) older than its sources. */
export function requireFreshBuild(layer = 'lock'): void {
  for (const ts of walk(path.join(repoRoot, 'src', layer)).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.contract.ts'),
  )) {
    const js = path.join(repoRoot, 'dist', path.relative(path.join(repoRoot, 'src'), ts)).replace(/\.ts$/, '.js');
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(ts).mtimeMs)
      throw new Error(`${js} is missing or older than its source: run \`npm run build\` first`);
  }
}
