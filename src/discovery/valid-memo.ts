/**
 * Documents known to be valid: the hashes of the documents (as validated: merged, substituted,
 * with their defaults) that validated clean against these very schemas, kept in
 * `.deployer/cache/` beside the parse cache. A plan of an unchanged stack then validates nothing
 * again and loads no validator: loading and first running them was a tenth of a small stack's
 * plan (docs/performance.md, "Start-up").
 *
 * Only clean documents are kept; a refused one is validated every time, since its findings are
 * what the run reports. The file's name carries deployer's version and the schemas' fingerprint,
 * so other schemas or another deployer never read it. A hash says no more than the state does:
 * a validated document holds no literal secret (discovery refuses those first), and its spec is
 * in the state in full.
 */
import path from 'node:path';
import { sha256 } from '../model/hash.js';
import { deployerVersion } from '../package-info.js';
import { readFileIfExists } from '../util/atomic-write.js';
import { saveCacheFile } from './read-documents.js';

/** Hashes kept from earlier runs (other environments' documents) beyond this run's, at most. */
const KEEP_EARLIER = 4096;

/** What a run checks its documents against before validating them. */
export interface KnownValid {
  /** The findings of `data`: none when it is known valid, else what `validate` finds (and a clean result is kept). */
  validated<F>(data: unknown, validate: () => F[]): F[];
}

export class ValidMemo implements KnownValid {
  /** Clean documents of this run. */
  private readonly now = new Set<string>();
  private earlier = new Set<string>();
  private added = false;

  private constructor(private readonly file: string | undefined) {}

  /** The memo of `cacheDir` (none: nothing remembered, nothing written) for schemas with `fingerprint`. */
  static async load(cacheDir: string | undefined, fingerprint: string): Promise<ValidMemo> {
    const memo = new ValidMemo(cacheDir && path.join(cacheDir, `valid-${deployerVersion}-${fingerprint.slice(0, 16)}.json`));
    if (!memo.file) return memo;
    const body = await readFileIfExists(memo.file).catch(() => undefined);
    try {
      const hashes = body ? (JSON.parse(body.toString('utf8')) as { valid?: unknown }).valid : undefined;
      if (Array.isArray(hashes)) memo.earlier = new Set(hashes.filter((h): h is string => typeof h === 'string'));
    } catch {
      // A damaged memo is only a slower run.
    }
    return memo;
  }

  validated<F>(data: unknown, validate: () => F[]): F[] {
    const hash = sha256(JSON.stringify(data) ?? 'undefined');
    if (this.now.has(hash)) return [];
    if (this.earlier.has(hash)) {
      this.now.add(hash);
      return [];
    }
    const findings = validate();
    if (findings.length === 0) {
      this.now.add(hash);
      this.added = true;
    }
    return findings;
  }

  /** Writes the memo when this run validated a document anew; removes the memos of other schemas or versions beside it. */
  async save(): Promise<void> {
    if (!this.file || !this.added) return;
    const earlier = [...this.earlier].filter((h) => !this.now.has(h)).slice(-KEEP_EARLIER);
    await saveCacheFile(this.file, JSON.stringify({ valid: [...earlier, ...this.now] }), 'valid');
  }
}
