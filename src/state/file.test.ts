import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, StateCorruptError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import { STATE_VERSION } from '../model/state.js';
import { FileBlobs, FileStateStore } from './file.js';
import { emptyState, openStateStore } from './index.js';
import { stateStoreContract, withComponent } from './store.contract.js';
import { useTempDirs } from '../../test/helpers/tmp.js';

const tempDir = useTempDirs('state');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

stateStoreContract('file', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-state-contract-'));
  return {
    store: new FileStateStore(dir),
    blobs: new FileBlobs(dir),
    withClock: (now) => new FileStateStore(dir, { now }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('FileStateStore on disk', () => {
  it('lays out stacks/{stack}/{env}/state.json, its digest and history/{serial}.json', async () => {
    const root = tempDir();
    const store = new FileStateStore(root);
    const v1 = await store.write(withComponent(emptyState('web', 'prod'), 'api', 'd1'));
    const v2 = await store.write(withComponent(v1, 'api', 'd2'));
    await store.write(withComponent(emptyState('web', 'staging'), 'api'));

    expect(filesUnder(root)).toEqual([
      'stacks/web/prod/history/1.json',
      'stacks/web/prod/history/1.json.sha256',
      'stacks/web/prod/state.json',
      'stacks/web/prod/state.json.sha256',
      'stacks/web/staging/state.json',
      'stacks/web/staging/state.json.sha256',
    ]);
    const dir = path.join(root, 'stacks', 'web', 'prod');
    const body = readFileSync(path.join(dir, 'state.json'));
    expect(JSON.parse(body.toString('utf8'))).toEqual(v2);
    expect(readFileSync(path.join(dir, 'state.json.sha256'), 'utf8').trim()).toBe(sha256(body));
    expect(JSON.parse(readFileSync(path.join(dir, 'history', '1.json'), 'utf8'))).toEqual(v1);
  });

  it('refuses to read a state.json edited by hand (digest mismatch)', async () => {
    const root = tempDir();
    const store = new FileStateStore(root);
    const v1 = await store.write(withComponent(emptyState('web', 'prod'), 'api'));
    const file = path.join(root, 'stacks', 'web', 'prod', 'state.json');
    writeFileSync(file, JSON.stringify({ ...v1, components: {} }, null, 2));

    const err = await store.read('web', 'prod').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as StateCorruptError).code).toBe('STATE_CORRUPT');
    expect((err as StateCorruptError).message).toContain(file);
    expect((err as StateCorruptError).details.join('\n')).toContain('deployer state recover');
    // Nothing is written on top of a state that cannot be trusted.
    await expect(store.write(withComponent(v1, 'db'))).rejects.toBeInstanceOf(StateCorruptError);
    expect(existsSync(path.join(root, 'stacks', 'web', 'prod', 'history'))).toBe(false);
  });

  it('refuses to read a state.json whose digest is missing', async () => {
    const root = tempDir();
    const store = new FileStateStore(root);
    await store.write(emptyState('web', 'prod'));
    rmSync(path.join(root, 'stacks', 'web', 'prod', 'state.json.sha256'));
    await expect(store.read('web', 'prod')).rejects.toBeInstanceOf(StateCorruptError);
  });

  it('reports a state.json that is not JSON, even with a matching digest, as corrupt', async () => {
    const root = tempDir();
    const store = new FileStateStore(root);
    await store.write(emptyState('web', 'prod'));
    const dir = path.join(root, 'stacks', 'web', 'prod');
    writeFileSync(path.join(dir, 'state.json'), '{ not json');
    writeFileSync(path.join(dir, 'state.json.sha256'), sha256('{ not json') + '\n');
    await expect(store.read('web', 'prod')).rejects.toBeInstanceOf(StateCorruptError);
  });

  it('leaves no temporary files behind after many writes', async () => {
    const root = tempDir();
    const store = new FileStateStore(root);
    let current = await store.write(emptyState('web', 'prod'));
    for (let i = 0; i < 5; i++) current = await store.write(withComponent(current, `c${i}`));
    const names = filesUnder(root);
    expect(names.filter((n) => n.endsWith('.tmp') || path.basename(n).startsWith('.'))).toEqual([]);
    expect(names).toEqual([
      ...[1, 2, 3, 4, 5].flatMap((s) => [`stacks/web/prod/history/${s}.json`, `stacks/web/prod/history/${s}.json.sha256`]),
      'stacks/web/prod/state.json',
      'stacks/web/prod/state.json.sha256',
    ]);
  });

  it('prunes history older than 90 days on write, keeping the newest ten versions', async () => {
    const root = tempDir();
    const store = new FileStateStore(root);
    let current = await store.write(emptyState('web', 'prod'));
    for (let i = 0; i < 12; i++) current = await store.write(withComponent(current, `c${i}`));
    const historyDir = path.join(root, 'stacks', 'web', 'prod', 'history');
    const old = new Date(Date.now() - 100 * 24 * 3600 * 1000);
    for (const name of readdirSync(historyDir)) utimesSync(path.join(historyDir, name), old, old);
    expect((await store.history('web', 'prod')).map((h) => h.serial)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    current = await store.write(withComponent(current, 'last'));
    expect((await store.history('web', 'prod')).map((h) => h.serial)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(await store.readVersion('web', 'prod', 3)).toBeUndefined();
    expect((await store.readVersion('web', 'prod', 4))?.serial).toBe(4);
    expect(current.serial).toBe(14);
  });

  it('points the Pulumi backend at stacks/{stack}/{env}/pulumi beside the state', () => {
    const root = tempDir();
    const store = new FileStateStore(root);
    const url = store.pulumiBackend('web', 'prod');
    expect(url.startsWith('file://')).toBe(true);
    expect(fileURLToPath(url)).toBe(path.join(root, 'stacks', 'web', 'prod', 'pulumi'));
    expect(store.url).toBe(pathToFileURL(root).href);
    expect(store.localRoot).toBe(root);
  });
});

describe('openStateStore and emptyState', () => {
  it('resolves a relative file:// URL against the base directory', async () => {
    const base = tempDir();
    const store = openStateStore('file://.deployer', base);
    expect(store.localRoot).toBe(path.join(base, '.deployer'));
    await store.write(emptyState('web', 'prod'));
    expect(existsSync(path.join(base, '.deployer', 'stacks', 'web', 'prod', 'state.json'))).toBe(true);
  });

  it('accepts an absolute file:// URL and a bare relative path', () => {
    const base = tempDir();
    const elsewhere = tempDir();
    expect(openStateStore(pathToFileURL(elsewhere).href, base).localRoot).toBe(elsewhere);
    expect(openStateStore('state/dir', base).localRoot).toBe(path.join(base, 'state', 'dir'));
  });

  it('refuses a backend it does not support', () => {
    const err = (() => {
      try {
        openStateStore('gs://bucket/state', tempDir());
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toContain('gs://bucket/state');
    expect((err as InvalidInputError).details.join('\n')).toContain('file://');
    expect((err as InvalidInputError).details.join('\n')).toContain('s3://');
  });

  it('creates an empty state at serial 0 with a fresh lineage', () => {
    const a = emptyState('web', 'prod');
    const b = emptyState('web', 'prod');
    expect(a).toMatchObject({ version: STATE_VERSION, serial: 0, stack: 'web', environment: 'prod', components: {} });
    expect(a.lineage).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.lineage).not.toBe(b.lineage);
  });
});
