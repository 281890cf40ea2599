/**
 * A small file system that can be filled up or made read-only, for the tests of a machine that
 * refuses (a full disk, a read-only mount): a tmpfs mounted on a temporary directory when this
 * process may mount (root, as on CI), undefined otherwise (those tests then inject the error).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the file system refuses (ENOSPC). */
  fill(): void;
  /** Removes the filler. */
  free(): void;
  /** Remounts it read-only (true) or writable again (false). */
  readOnly(on: boolean): void;
  /** Unmounts it and removes the directory. */
  remove(): void;
}

export function mountSmallDisk(sizeKb: number): SmallDisk | undefined {
  // DEPLOYER_TEST_NO_MOUNT=1 tries the injected faults where mounting would work.
  if (process.env['DEPLOYER_TEST_NO_MOUNT']) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const filler = path.join(dir, '.filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    readOnly(on) {
      execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir], { stdio: 'ignore' });
    },
    remove() {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
