/** Writes that are all or nothing: a reader sees the old file or the new one, never half of one. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Write to a temporary file beside `file`, fsync it, rename it over `file`, fsync the directory. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true }).catch((err: unknown) => Promise.reject(withPath(err, dir)));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'wx', mode).catch((err: unknown) => Promise.reject(withPath(err, file)));
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    // A failed write (disk full) or rename must not leave the temporary file behind.
    await fs.rm(tmp, { force: true });
    throw withPath(err, file);
  }
  await syncDir(dir);
}

/**
 * The system's error for a write names no file ("ENOSPC: no space left on device, write"):
 * the file it was writing is attached, so that the message the user sees says where.
 */
export function withPath(err: unknown, file: string): unknown {
  const e = err as NodeJS.ErrnoException | null;
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.path === undefined) e.path = file;
  return err;
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

export async function readFileIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The JSON value in `file`, or undefined when there is no such file or it does not parse (a
 * file another process is writing right now is read again later by those who poll).
 */
export async function readJsonIfValid<T>(file: string): Promise<T | undefined> {
  const body = await readFileIfExists(file);
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
