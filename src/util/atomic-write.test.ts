import { mkdirSync, promises as fsPromises, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileIfExists, syncDir, writeFileAtomic } from './atomic-write.js';
import { useTempDirs } from '../../test/helpers/tmp.js';

const tempDir = useTempDirs('atomic');
afterEach(() => {
  vi.restoreAllMocks();
});

describe('writeFileAtomic', () => {
  it('creates the file, and its directory, with the content', async () => {
    const file = path.join(tempDir(), 'a', 'b', 'state.json');
    await writeFileAtomic(file, '{"serial":1}');
    expect(readFileSync(file, 'utf8')).toBe('{"serial":1}');
    expect(readdirSync(path.dirname(file))).toEqual(['state.json']);
  });

  it('replaces the content of an existing file and leaves no temporary file behind', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    writeFileSync(file, 'old content that is longer than the new one');
    await writeFileAtomic(file, 'new');
    await writeFileAtomic(file, new Uint8Array([104, 105]));
    expect(readFileSync(file, 'utf8')).toBe('hi');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('applies the file mode it is given', async () => {
    const file = path.join(tempDir(), 'secret');
    await writeFileAtomic(file, 'x', 0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('leaves a consistent file after many concurrent writers: one of the contents, whole', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    const bodies = Array.from({ length: 20 }, (_, i) => JSON.stringify({ writer: i, pad: 'x'.repeat(10_000 + i) }));
    await Promise.all(bodies.map((b) => writeFileAtomic(file, b)));
    expect(bodies).toContain(readFileSync(file, 'utf8'));
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('keeps the old file and removes its temporary file when the rename fails', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'target');
    mkdirSync(path.join(target, 'occupied'), { recursive: true });
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(['target']);
  });

  it('keeps the old file and removes its temporary file when the disk fills up mid-write', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    writeFileSync(file, 'old');
    const realOpen = fsPromises.open.bind(fsPromises);
    vi.spyOn(fsPromises, 'open').mockImplementation(async (...args: Parameters<typeof fsPromises.open>) => {
      const handle = await realOpen(...args);
      if (String(args[1]) === 'wx') {
        handle.writeFile = async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        };
      }
      return handle;
    });
    await expect(writeFileAtomic(file, 'new')).rejects.toMatchObject({ code: 'ENOSPC' });
    vi.restoreAllMocks();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});

describe('readFileIfExists', () => {
  it('reads a file, or returns undefined when there is none', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'f'), 'content');
    expect((await readFileIfExists(path.join(dir, 'f')))?.toString('utf8')).toBe('content');
    expect(await readFileIfExists(path.join(dir, 'missing'))).toBeUndefined();
    expect(await readFileIfExists(path.join(dir, 'no-dir', 'missing'))).toBeUndefined();
  });

  it('fails on errors other than a missing file', async () => {
    await expect(readFileIfExists(tempDir())).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('syncDir', () => {
  it('accepts a directory that does not exist', async () => {
    await expect(syncDir(path.join(tempDir(), 'missing'))).resolves.toBeUndefined();
  });
});
