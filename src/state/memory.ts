/** StateStore in memory, for tests of the layers above (same contract as the others). */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StackState } from '../model/state.js';
import { checkSuccessor } from './conflict.js';
import type { HistoryEntry, StateStore } from './store.js';

export class MemoryStateStore implements StateStore {
  readonly url = 'memory://';

  constructor(private readonly pulumiRoot = path.join(os.tmpdir(), 'deployer-memory-state')) {}

  pulumiBackend(stack: string, env: string): string {
    return pathToFileURL(path.join(this.pulumiRoot, 'stacks', stack, env, 'pulumi')).href;
  }
  private readonly current = new Map<string, string>();
  private readonly versions = new Map<string, Map<number, { body: string; savedAt: Date }>>();

  async read(stack: string, env: string): Promise<StackState | undefined> {
    const body = this.current.get(`${stack}/${env}`);
    return body === undefined ? undefined : (JSON.parse(body) as StackState);
  }

  async write(next: StackState): Promise<StackState> {
    const key = `${next.stack}/${next.environment}`;
    const current = await this.read(next.stack, next.environment);
    checkSuccessor(current, next);
    if (current) {
      const h = this.versions.get(key) ?? new Map();
      h.set(current.serial, { body: this.current.get(key)!, savedAt: new Date() });
      this.versions.set(key, h);
    }
    const stored = { ...next, serial: next.serial + 1 };
    this.current.set(key, JSON.stringify(stored));
    return stored;
  }

  async history(stack: string, env: string): Promise<HistoryEntry[]> {
    const h = this.versions.get(`${stack}/${env}`) ?? new Map();
    return [...h].map(([serial, v]) => ({ serial, savedAt: v.savedAt })).sort((a, b) => a.serial - b.serial);
  }

  async readVersion(stack: string, env: string, serial: number): Promise<StackState | undefined> {
    const current = await this.read(stack, env);
    if (current?.serial === serial) return current;
    const v = this.versions.get(`${stack}/${env}`)?.get(serial);
    return v ? (JSON.parse(v.body) as StackState) : undefined;
  }
}
