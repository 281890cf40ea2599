/** Temporary directories for one test file, removed after each test. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/** Registers the cleanup and returns a function that makes a new directory `deployer-<prefix>-*`. */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `deployer-${prefix}-`));
    dirs.push(dir);
    return dir;
  };
}
