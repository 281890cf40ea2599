/** StateStore on a local directory (the default: `.deployer/` inside the stack directory). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StateCorruptError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import type { StackState } from '../model/state.js';
import { readFileIfExists, writeFileAtomic } from '../util/atomic-write.js';
import { parseState } from './codec.js';
import { checkSuccessor } from './conflict.js';
import { prunableHistory, type HistoryEntry, type StateStore } from './store.js';

export class FileStateStore implements StateStore {
  readonly url: string;
  readonly localRoot: string;

  constructor(private readonly root: string) {
    this.url = pathToFileURL(root).href;
    this.localRoot = root;
  }

  pulumiBackend(stack: string, env: string): string {
    return pathToFileURL(path.join(this.dir(stack, env), 'pulumi')).href;
  }

  private dir(stack: string, env: string): string {
    return path.join(this.root, 'stacks', stack, env);
  }

  async read(stack: string, env: string): Promise<StackState | undefined> {
    const dir = this.dir(stack, env);
    const body = await readFileIfExists(path.join(dir, 'state.json'));
    if (body === undefined) return undefined;
    const digest = (await readFileIfExists(path.join(dir, 'state.json.sha256')))?.toString('utf8').trim();
    const actual = sha256(body);
    if (digest !== actual) {
      throw new StateCorruptError(`state ${path.join(dir, 'state.json')} does not match its digest`, [
        `expected sha256 ${digest ?? '(digest missing)'}, found ${actual}`,
        'A write was interrupted or the file was edited by hand; previous versions are in history/.',
      ]);
    }
    return parseState(body, path.join(dir, 'state.json'));
  }

  async write(next: StackState): Promise<StackState> {
    const dir = this.dir(next.stack, next.environment);
    const current = await this.read(next.stack, next.environment);
    checkSuccessor(current, next);
    if (current) {
      // The previous version goes to history before the new one replaces it.
      await writeFileAtomic(path.join(dir, 'history', `${current.serial}.json`), JSON.stringify(current, null, 2));
    }
    const stored: StackState = { ...next, serial: next.serial + 1 };
    const body = JSON.stringify(stored, null, 2);
    await writeFileAtomic(path.join(dir, 'state.json'), body);
    await writeFileAtomic(path.join(dir, 'state.json.sha256'), sha256(body) + '\n');
    await this.prune(next.stack, next.environment);
    return stored;
  }

  async history(stack: string, env: string): Promise<HistoryEntry[]> {
    const dir = path.join(this.dir(stack, env), 'history');
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const entries: HistoryEntry[] = [];
    for (const name of names) {
      const m = /^(\d+)\.json$/.exec(name);
      if (!m) continue;
      const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
      if (st) entries.push({ serial: Number(m[1]), savedAt: st.mtime });
    }
    return entries.sort((a, b) => a.serial - b.serial);
  }

  async readVersion(stack: string, env: string, serial: number): Promise<StackState | undefined> {
    // History stays readable when the current state is corrupt: that is when it is needed.
    const current = await this.read(stack, env).catch(() => undefined);
    if (current?.serial === serial) return current;
    const file = path.join(this.dir(stack, env), 'history', `${serial}.json`);
    const body = await readFileIfExists(file);
    return body === undefined ? undefined : parseState(body, file);
  }

  private async prune(stack: string, env: string): Promise<void> {
    const dir = path.join(this.dir(stack, env), 'history');
    for (const serial of prunableHistory(await this.history(stack, env), new Date())) {
      await fs.rm(path.join(dir, `${serial}.json`), { force: true });
    }
  }
}
