/**
 * Reading and parsing a stack's files, fast: a file whose bytes were parsed before (same
 * sha256) comes from the cache in `.deployer/cache/` and is never parsed again; the others are
 * parsed without positions (parse-fast.ts), in worker threads when there are many. Hostile
 * files (binary, not UTF-8, too large) become problems, not crashes.
 */
import { promises as fs, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ValidationProblem } from '../errors.js';
import { sha256 } from '../model/hash.js';
import { deployerVersion, distFile } from '../package-info.js';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-write.js';
import { parseFast, type FastParse } from './parse-fast.js';

/** A document as loaded: its data and where it came from (positions are found only when needed). */
export interface SourceDoc {
  /** Absolute path. */
  file: string;
  /** The path shown in messages. */
  display: string;
  docIndex: number;
  data: unknown;
}

export interface LoadedFiles {
  docs: SourceDoc[];
  problems: ValidationProblem[];
  /** Files parsed now (not from the cache). */
  parsed: number;
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Parsing in worker threads pays off from about this many files. */
const WORKER_THRESHOLD = 400;
/** v2: merge keys resolved and plain scalars read as `yaml`'s core schema reads them; a v1 entry may hold a literal `<<`. */
const CACHE_FORMAT = `documents-${deployerVersion}-jsyaml4-yaml2-v2`;

/** What a file was when it was last read: unchanged size, mtime and inode mean unchanged bytes. */
interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
  hash: string;
}

interface CacheFile {
  format: string;
  /** When the cache was written: stamps this recent are not trusted (the file may change again within the same mtime tick). */
  writtenAt: number;
  files: Record<string, FileStamp>;
  entries: Record<string, FastParse>;
}

/** Stamps younger than this, relative to the cache's writing, are re-read (as git's "racy" entries). */
const RACY_MS = 2000;

export class DocumentCache {
  private entries = new Map<string, FastParse>();
  private stamps = new Map<string, FileStamp>();
  private writtenAt = 0;
  private dirty = false;
  /** Hashes of forgotten files: no stamp with one of them is written. */
  private readonly forgotten = new Set<string>();
  private readonly file: string | undefined;

  constructor(dir: string | undefined) {
    this.file = dir ? path.join(dir, `${CACHE_FORMAT}.json`) : undefined;
  }

  async load(): Promise<void> {
    if (!this.file) return;
    const body = await readFileIfExists(this.file).catch(() => undefined);
    if (!body) return;
    try {
      const c = JSON.parse(body.toString('utf8')) as CacheFile;
      if (c.format !== CACHE_FORMAT) return;
      const entries = Object.entries(c.entries);
      if (
        !entries.every(
          ([, v]) => Array.isArray((v as Partial<FastParse> | null)?.docs) && Array.isArray((v as Partial<FastParse> | null)?.problems),
        )
      )
        return;
      this.entries = new Map(entries);
      this.stamps = new Map(Object.entries(c.files));
      this.writtenAt = c.writtenAt;
    } catch {
      // A damaged cache is only a slower run.
    }
  }

  get(hash: string): FastParse | undefined {
    return this.entries.get(hash);
  }

  /** The hash of `file` if its stamp says it is unchanged since it was cached. */
  knownHash(file: string, st: { size: number; mtimeMs: number; ino: number }): string | undefined {
    const s = this.stamps.get(file);
    if (!s || s.size !== st.size || s.mtimeMs !== st.mtimeMs || s.ino !== st.ino) return undefined;
    return st.mtimeMs < this.writtenAt - RACY_MS ? s.hash : undefined;
  }

  stamp(file: string, st: { size: number; mtimeMs: number; ino: number }, hash: string): void {
    const s = this.stamps.get(file);
    if (s && s.hash === hash && s.size === st.size && s.mtimeMs === st.mtimeMs && s.ino === st.ino) {
      // Unchanged. Rewrite the cache only once the stamp has become old enough to be trusted.
      if (st.mtimeMs >= this.writtenAt - RACY_MS && st.mtimeMs < Date.now() - RACY_MS) this.dirty = true;
      return;
    }
    this.stamps.set(file, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash });
    this.dirty = true;
  }

  set(hash: string, value: FastParse): void {
    this.entries.set(hash, value);
    this.dirty = true;
  }

  /**
   * Drops `file` from the cache: its stamp, its parse, and the stamps of every file with the
   * same bytes (a hash of a file with a weak secret in it gives the secret away).
   */
  forget(file: string): void {
    const hash = this.stamps.get(file)?.hash;
    this.stamps.delete(file);
    if (hash !== undefined) {
      this.entries.delete(hash);
      this.forgotten.add(hash);
    }
    this.dirty = true;
  }

  /**
   * Keeps only what `files` (the stack's files now) use, and writes the cache if it changed,
   * removing the caches of other formats (older versions) beside it: they may hold what this
   * version refuses.
   */
  async save(files: Set<string>): Promise<void> {
    if (!this.file) return;
    const used = new Set([...files].map((f) => this.stamps.get(f)?.hash).filter((h): h is string => h !== undefined));
    const stale = this.entries.size !== used.size || [...this.stamps.keys()].some((f) => !files.has(f));
    if (!this.dirty && !stale) return;
    const entries: Record<string, FastParse> = {};
    for (const k of used) {
      const v = this.entries.get(k);
      if (v) entries[k] = v;
    }
    const stamps: Record<string, FileStamp> = {};
    for (const f of files) {
      const st = this.stamps.get(f);
      if (st && !this.forgotten.has(st.hash)) stamps[f] = st;
    }
    const cache: CacheFile = { format: CACHE_FORMAT, writtenAt: Date.now(), files: stamps, entries };
    // When the new cache cannot be written, the old one goes: it may hold a file forgotten since.
    await saveCacheFile(this.file, JSON.stringify(cache), 'documents');
  }
}

/**
 * Writes `file`, one of the caches of `.deployer/cache/` (`<family>-<format>.json`), or removes it
 * when it cannot be written; then removes the caches of the family's other formats (older
 * versions, other schemas) beside it, and their leftover temporary files.
 */
export async function saveCacheFile(file: string, body: string, family: string): Promise<void> {
  await writeFileAtomic(file, body).catch(() => fs.rm(file, { force: true }).catch(() => undefined));
  const dir = path.dirname(file);
  const name = path.basename(file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const ofFamily = new RegExp(`^\\.?${family}-.*\\.json(\\..*\\.tmp)?$`);
  // A temporary file of this format may be another process's write in progress: left alone.
  const other = names.filter((n) => ofFamily.test(n) && n !== name && !n.startsWith(`.${name}.`));
  await Promise.all(other.map((n) => fs.rm(path.join(dir, n), { force: true }).catch(() => undefined)));
}

interface Pending {
  file: string;
  display: string;
  hash: string;
  text: string;
}

/** Reads, checks and parses `files`; `display` maps an absolute path to its shown form. */
export async function loadFiles(files: string[], display: (abs: string) => string, cache: DocumentCache): Promise<LoadedFiles> {
  const problems: ValidationProblem[] = [];
  const parsedBy = new Map<string, FastParse>();
  const pending: Pending[] = [];
  // ignoreBOM false (the default, said here because it matters): a leading byte-order mark is
  // dropped, not kept as text. The parsers would drop it as well (parse.ts stripBom, js-yaml).
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

  for (const file of files) {
    const shown = display(file);
    const at = { file: shown, line: 1, col: 1 };
    let st;
    try {
      st = statSync(file);
    } catch {
      continue; // vanished during the scan
    }
    const known = cache.knownHash(file, st);
    const hit = known === undefined ? undefined : cache.get(known);
    if (hit) {
      parsedBy.set(file, relocated(hit, shown));
      continue;
    }
    if (st.size > MAX_FILE_BYTES) {
      problems.push({ location: at, path: '', message: `file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`, rule: 'file-size' });
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    if (bytes.includes(0)) {
      problems.push({ location: at, path: '', message: 'binary file (contains NUL bytes), not YAML', rule: 'encoding' });
      continue;
    }
    const hash = sha256(bytes);
    cache.stamp(file, st, hash);
    const cached = cache.get(hash);
    if (cached) {
      parsedBy.set(file, relocated(cached, shown));
      continue;
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      problems.push({ location: at, path: '', message: 'file is not valid UTF-8', rule: 'encoding' });
      continue;
    }
    pending.push({ file, display: shown, hash, text });
  }

  const results = pending.length >= WORKER_THRESHOLD ? await parseInWorkers(pending) : pending.map((p) => parseFast(p.display, p.text));
  pending.forEach((p, i) => {
    const r = results[i]!;
    cache.set(p.hash, r);
    parsedBy.set(p.file, r);
  });

  const docs: SourceDoc[] = [];
  for (const file of files) {
    const r = parsedBy.get(file);
    if (!r) continue;
    problems.push(...r.problems);
    for (const d of r.docs) docs.push({ file, display: display(file), docIndex: d.docIndex, data: d.data });
  }
  return { docs, problems, parsed: pending.length };
}

/** A cached parse of the same bytes under another name: its problems name this file. */
function relocated(r: FastParse, shown: string): FastParse {
  if (r.problems.length === 0) return r;
  return { docs: r.docs, problems: r.problems.map((p) => ({ ...p, location: { ...p.location, file: shown } })) };
}

/** Parses in `availableParallelism()` worker threads (the compiled parse-worker.js). */
async function parseInWorkers(pending: Pending[]): Promise<FastParse[]> {
  const n = Math.max(1, Math.min(os.availableParallelism(), Math.ceil(pending.length / WORKER_THRESHOLD)));
  const { Worker } = await import('node:worker_threads'); // loaded only for a stack this large
  const chunks: Pending[][] = Array.from({ length: n }, () => []);
  pending.forEach((p, i) => chunks[i % n]!.push(p));
  const out = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<FastParse[]>((resolve, reject) => {
          const w = new Worker(distFile('discovery/parse-worker.js'), {
            workerData: chunk.map((p) => ({ display: p.display, text: p.text })),
          });
          w.once('message', (r: FastParse[]) => resolve(r));
          w.once('error', reject);
        }),
    ),
  );
  const results: FastParse[] = new Array(pending.length);
  out.forEach((chunkResults, w) => chunkResults.forEach((r, j) => (results[j * n + w] = r)));
  return results;
}
