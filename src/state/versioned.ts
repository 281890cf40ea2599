/**
 * The state's versioning, once for every backend (over a BlobStore): serials and lineage, the
 * sha256 digest a read checks, the history each write keeps (with its own digest), retention,
 * and recovery from a current state that cannot be trusted. Layout per stack and environment:
 *
 *   stacks/{stack}/{env}/state.json            the current version
 *   stacks/{stack}/{env}/state.json.sha256     its digest
 *   stacks/{stack}/{env}/history/{n}.json      version n, as it was (+ `.sha256`)
 *   stacks/{stack}/{env}/damaged/{time}.json   a damaged current state set aside by a recovery
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StateCorruptError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import type { StackState } from '../model/state.js';
import type { BlobStore } from './blobs.js';
import { parseState } from './codec.js';
import { checkSuccessor } from './conflict.js';
import { prunableHistory, type HistoryEntry, type RestoreResult, type StateStore } from './store.js';

/** How a VersionedStateStore measures time and waits out stale reads. */
export interface VersionedOptions {
  /** The clock retention is measured with (tests move it forward). */
  now?: () => Date;
  /** Pause before reading again a state whose digest did not match (times the attempt). */
  retryDelayMs?: number;
}

/** The current state as stored: intact, absent, or damaged (and why). */
type Current =
  | { kind: 'absent' }
  | { kind: 'intact'; state: StackState; body: Buffer }
  | { kind: 'damaged'; body: Buffer | undefined; problem: string; detail: string };

export class VersionedStateStore implements StateStore {
  cliFlags = '';
  private readonly now: () => Date;
  private readonly retryDelayMs: number;

  constructor(
    protected readonly blobs: BlobStore,
    options: VersionedOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.retryDelayMs = options.retryDelayMs ?? 200;
  }

  get url(): string {
    return this.blobs.url;
  }

  get localRoot(): string | undefined {
    return this.blobs.localRoot;
  }

  pulumiBackend(stack: string, env: string): string {
    return this.blobs.pulumiBackend(stack, env);
  }

  private key(stack: string, env: string, rest: string): string {
    return `stacks/${stack}/${env}/${rest}`;
  }

  async read(stack: string, env: string): Promise<StackState | undefined> {
    const current = await this.readCurrent(stack, env);
    if (current.kind === 'damaged') throw this.damaged(stack, env, current);
    return current.kind === 'intact' ? current.state : undefined;
  }

  async write(next: StackState): Promise<StackState> {
    const { stack, environment: env } = next;
    const current = await this.readCurrent(stack, env);
    // Nothing is written on top of a state that cannot be trusted: `restore` is the way back.
    if (current.kind === 'damaged') throw this.damaged(stack, env, current);
    checkSuccessor(current.kind === 'intact' ? current.state : undefined, next);
    if (current.kind === 'intact') await this.keepInHistory(stack, env, current.state.serial, current.body);
    const stored: StackState = { ...next, serial: next.serial + 1 };
    await this.putCurrent(stored, current.kind === 'intact' ? current.body : undefined);
    return stored;
  }

  async history(stack: string, env: string): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    for (const b of await this.blobs.list(this.key(stack, env, 'history/'))) {
      const m = /\/history\/(\d+)\.json$/.exec(b.key);
      if (m) entries.push({ serial: Number(m[1]), savedAt: b.modified });
    }
    return entries.sort((a, b) => a.serial - b.serial);
  }

  async readVersion(stack: string, env: string, serial: number): Promise<StackState | undefined> {
    // History first: it stays readable when the current state is damaged, when it is needed most
    // (and a damaged current state is not read again, slowly, for every version looked at).
    const key = this.key(stack, env, `history/${serial}.json`);
    const body = await this.blobs.get(key);
    if (body === undefined) {
      const current = await this.readCurrent(stack, env);
      return current.kind === 'intact' && current.state.serial === serial ? current.state : undefined;
    }
    const digest = (await this.blobs.get(`${key}.sha256`))?.toString('utf8').trim();
    if (digest !== undefined && digest !== sha256(body)) {
      throw new StateCorruptError(`history version ${this.blobs.where(key)} does not match its digest`, [
        'It was changed or cut short after it was written; choose another version.',
      ]);
    }
    const version = parseState(body, this.blobs.where(key));
    const wrong = shapeProblem(version, stack, env, serial);
    if (wrong)
      throw new StateCorruptError(`history version ${this.blobs.where(key)} is not version ${serial} of ${stack}/${env}: ${wrong}`);
    return version;
  }

  async restore(stack: string, env: string, version: StackState): Promise<RestoreResult> {
    const current = await this.readCurrent(stack, env);
    const serials = (await this.history(stack, env)).map((h) => h.serial);
    let damagedKeptAt: string | undefined;
    if (current.kind === 'intact') {
      await this.keepInHistory(stack, env, current.state.serial, current.body);
      serials.push(current.state.serial);
    } else if (current.kind === 'damaged') {
      if (current.body !== undefined) {
        const key = this.key(stack, env, `damaged/${this.now().toISOString().replace(/[:.]/g, '-')}.json`);
        await this.blobs.put(key, current.body);
        damagedKeptAt = this.blobs.where(key);
      }
      // The damaged version's own serial, when it can still be read, is never given out again
      // (a plan saved against it must stay stale); when it cannot, one more is skipped.
      const guessed = Number(/"serial":\s*(\d+)/.exec(current.body?.toString('utf8') ?? '')?.[1] ?? NaN);
      serials.push(Number.isFinite(guessed) ? guessed : Math.max(0, ...serials) + 1);
    }
    const serial = Math.max(0, version.serial, ...serials) + 1;
    const stored: StackState = { ...version, stack, environment: env, serial };
    await this.putCurrent(stored, current.kind === 'intact' ? current.body : undefined);
    return { stored, ...(damagedKeptAt ? { damagedKeptAt } : {}) };
  }

  /** Reads the current state and its digest, reading again a few times when they disagree. */
  private async readCurrent(stack: string, env: string): Promise<Current> {
    const key = this.key(stack, env, 'state.json');
    let last: Current = { kind: 'absent' };
    for (let attempt = 1; attempt <= this.blobs.staleReadAttempts; attempt++) {
      const [body, digest] = await Promise.all([this.blobs.get(key), this.blobs.get(`${key}.sha256`)]);
      if (body === undefined && digest === undefined) return { kind: 'absent' };
      // The digest file names the body it accepts; during a write, the new one and the old one.
      const accepted = (digest?.toString('utf8') ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const expected = accepted[0] ?? '(digest missing)';
      const actual = body === undefined ? '(state missing)' : sha256(body);
      if (body !== undefined && accepted.includes(actual)) return this.parsed(key, body);
      const reads = this.blobs.staleReadAttempts > 1 ? ` after ${this.blobs.staleReadAttempts} reads` : '';
      last = {
        kind: 'damaged',
        body,
        problem: `does not match its digest${reads}`,
        detail: `expected sha256 ${expected}, found ${actual}`,
      };
      if (attempt < this.blobs.staleReadAttempts) await sleep(this.retryDelayMs * attempt);
    }
    return last;
  }

  private parsed(key: string, body: Buffer): Current {
    try {
      return { kind: 'intact', state: parseState(body, this.blobs.where(key)), body };
    } catch (err) {
      return { kind: 'damaged', body, problem: 'is not valid JSON', detail: (err as Error).message };
    }
  }

  private damaged(stack: string, env: string, c: Extract<Current, { kind: 'damaged' }>): StateCorruptError {
    const flags = this.cliFlags ? `${this.cliFlags} ` : '';
    return new StateCorruptError(`state ${this.blobs.where(this.key(stack, env, 'state.json'))} ${c.problem}`, [
      c.detail,
      'A write was cut short (a full disk, a killed process) or the file was changed by hand; deployer will not act on it.',
      `Restore the newest intact version from its history with: deployer state recover ${flags}--stack ${stack} -e ${env}`,
      `(\`deployer state history ${flags}--stack ${stack} -e ${env}\` lists the versions; \`state recover --to <serial>\` picks one.)`,
    ]);
  }

  /** Version `serial` goes to history exactly as it was stored, with its digest. */
  private async keepInHistory(stack: string, env: string, serial: number, body: Buffer): Promise<void> {
    const key = this.key(stack, env, `history/${serial}.json`);
    await this.blobs.put(key, body);
    await this.blobs.put(`${key}.sha256`, sha256(body) + '\n');
  }

  /**
   * Two objects cannot be written at once, so the digest goes first and names both the new body
   * and the one it replaces; then the body; then the digest names the new body alone. Whatever
   * the write is cut short by (a full disk, a kill), a reader finds a body its digest accepts:
   * the old version or the new one, never a damaged state. Once the body is written, the write
   * has happened: the digest's last step and retention may fail without undoing it.
   */
  private async putCurrent(stored: StackState, replaced: Buffer | undefined): Promise<void> {
    const key = this.key(stored.stack, stored.environment, 'state.json');
    const body = JSON.stringify(stored, null, 2);
    const digest = sha256(body);
    await this.blobs.put(`${key}.sha256`, `${digest}\n${replaced ? `${sha256(replaced)}\n` : ''}`);
    await this.blobs.put(key, body);
    await this.blobs.put(`${key}.sha256`, `${digest}\n`).catch(() => undefined);
    await this.prune(stored.stack, stored.environment).catch(() => undefined);
  }

  private async prune(stack: string, env: string): Promise<void> {
    for (const serial of prunableHistory(await this.history(stack, env), this.now())) {
      const key = this.key(stack, env, `history/${serial}.json`);
      await this.blobs.delete(key);
      await this.blobs.delete(`${key}.sha256`);
    }
  }
}

/** Why `s` is not version `serial` of `stack`/`env` (undefined when it is). */
function shapeProblem(s: StackState, stack: string, env: string, serial: number): string | undefined {
  if (typeof s !== 'object' || s === null || typeof s.components !== 'object' || s.components === null) return 'it has no components';
  if (s.stack !== stack || s.environment !== env) return `it belongs to ${String(s.stack)}/${String(s.environment)}`;
  if (s.serial !== serial) return `it says serial ${String(s.serial)}`;
  return undefined;
}
