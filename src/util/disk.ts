/** What the file system under a path says about itself. */
import { statfsSync } from 'node:fs';

/** True when the file system holding `dir` has (almost) no space left for this user. */
export function noSpaceLeft(dir: string): boolean {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize < 64 * 1024;
  } catch {
    return false;
  }
}
