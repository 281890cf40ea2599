import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `file://.deployer` (relative to `baseDir`), `file:///abs/dir` and a bare path all name a directory. */
export function fileUrlToDir(url: string, baseDir: string): string {
  if (!url.startsWith('file://')) return path.resolve(baseDir, url);
  const rest = url.slice('file://'.length);
  if (rest.startsWith('/')) return fileURLToPath(url);
  return path.resolve(baseDir, decodeURIComponent(rest));
}
