/**
 * Reading and parsing a stack's files (load.ts): the parse cache in `.deployer/cache/` (keyed
 * by content hash, with size/mtime/inode stamps), what a damaged cache does (nothing but a
 * slower run), problems of cached parses named after the current file, and worker threads for
 * many files giving exactly what the in-process parser gives. Needs `npm run build` (workers
 * run dist/discovery/parse-worker.js).
 */
import { readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { removeTestdirs, writeStackDir } from '../../test/helpers/testdir.js';
import { ValidationError } from '../errors.js';
import { discover } from './index.js';
import { DocumentCache, loadFiles, type LoadedFiles } from './read-documents.js';
import { parseFast } from './parse-fast.js';
import { scanStackDir } from './scan.js';

const workers = vi.hoisted(() => ({ created: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>();
  class CountingWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args);
      workers.created++;
    }
  }
  return { ...actual, Worker: CountingWorker };
});

afterAll(removeTestdirs);
beforeEach(() => {
  workers.created = 0;
});

const stackDir = (files: Record<string, string>): string => writeStackDir(files);

const cacheDirOf = (dir: string): string => path.join(dir, '.deployer', 'cache');

/** Scans `dir`, loads its base files and saves the cache as discover() does, with the cache of `dir` read from disk anew. */
async function loadStack(dir: string): Promise<LoadedFiles> {
  const cache = new DocumentCache(cacheDirOf(dir));
  await cache.load();
  const files = (await scanStackDir(dir)).base;
  const loaded = await loadFiles(files, (f) => path.relative(dir, f), cache);
  await cache.save(new Set(files));
  return loaded;
}

const STACK = 'apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: cached\nspec:\n  environments: [dev]\n';
const SERVICE = 'apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: web\n';
const API = 'apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: api\nspec:\n  port: 8080\n';
const BROKEN = 'apiVersion: components.deployer.io/v1\nkind: [\n';
const FILES = {
  'stack.yaml': STACK,
  'services/web/service.yaml': SERVICE,
  'services/web/api.yaml': API,
  'services/web/broken.yaml': BROKEN,
};
const BROKEN_PROBLEM = (file: string): string =>
  `${file}:3:1 [yaml:BAD_INDENT] Flow sequence in block collection must be sufficiently indented and end with a ]`;
const shown = (l: LoadedFiles): string[] =>
  l.problems.map((p) => `${p.location.file}:${p.location.line}:${p.location.col} [${p.rule}] ${p.message}`);
const port = (l: LoadedFiles): unknown => (l.docs.find((d) => d.file.endsWith('api.yaml'))!.data as { spec: { port: unknown } }).spec.port;

describe('parse cache', () => {
  it('parses nothing the second time and gives the same documents and problems, in-process for a small stack', async () => {
    const dir = stackDir(FILES);
    const first = await loadStack(dir);
    expect(first.parsed).toBe(4);
    expect(first.docs.map((d) => path.relative(dir, d.file))).toEqual(
      ['services/web/api.yaml', 'services/web/service.yaml', 'stack.yaml'].map((f) => path.normalize(f)),
    );
    expect(shown(first)).toEqual([BROKEN_PROBLEM(path.join('services', 'web', 'broken.yaml'))]);
    expect(readdirSync(cacheDirOf(dir))).toEqual([expect.stringMatching(/^documents-.*\.json$/)]);
    const second = await loadStack(dir);
    expect(second.parsed).toBe(0);
    expect(second).toEqual({ ...first, parsed: 0 });
    expect(workers.created).toBe(0);
  });

  it('gives discover() the same stack from the cache as from the files', async () => {
    const dir = stackDir({ ...FILES, 'services/web/broken.yaml': API.replace('name: api', 'name: other') });
    const first = await discover({ dir, displayBase: dir });
    // The parse cache, and the documents known valid (valid-memo.ts).
    expect(readdirSync(cacheDirOf(dir)).sort()).toEqual([
      expect.stringMatching(/^documents-.*\.json$/),
      expect.stringMatching(/^valid-.*\.json$/),
    ]);
    const second = await discover({ dir, displayBase: dir });
    expect(second).toEqual(first);
  });

  it('parses an edited file again, and only that one', async () => {
    const dir = stackDir(FILES);
    await loadStack(dir);
    writeFileSync(path.join(dir, 'services/web/api.yaml'), API.replace('8080', '9090'));
    const after = await loadStack(dir);
    expect([after.parsed, port(after)]).toEqual([1, 9090]);
  });

  it('trusts a stamp (same size, mtime and inode) once the file is older than the cache, and re-reads it when the mtime moves', async () => {
    const dir = stackDir(FILES);
    const api = path.join(dir, 'services/web/api.yaml');
    const old = new Date((Math.floor(Date.now() / 1000) - 3600) * 1000);
    for (const f of (await scanStackDir(dir)).base) utimesSync(f, old, old);
    expect(port(await loadStack(dir))).toBe(8080);
    // Same size, same mtime, same inode: taken as unchanged without reading it (as git does).
    writeFileSync(api, API.replace('8080', '9090'));
    utimesSync(api, old, old);
    const trusted = await loadStack(dir);
    expect([trusted.parsed, port(trusted)]).toEqual([0, 8080]);
    const later = new Date(old.getTime() + 1000);
    utimesSync(api, later, later);
    const reread = await loadStack(dir);
    expect([reread.parsed, port(reread)]).toEqual([1, 9090]);
  });

  it.each([
    ['is not JSON', (_body: string): string => '{"format": "documents-'],
    ['is JSON but not a cache', (): string => '[1, 2, 3]'],
    ['is of another format', (body: string): string => body.replace(/"format":"[^"]*"/, '"format":"documents-0.0.0-old"')],
    [
      'has entries that are not parse results',
      (body: string): string => {
        const c = JSON.parse(body) as { entries: Record<string, unknown> };
        for (const k of Object.keys(c.entries)) c.entries[k] = 'garbage';
        return JSON.stringify(c);
      },
    ],
  ])('ignores a cache file that %s, parses everything and writes a sound cache again', async (_label, damage) => {
    const dir = stackDir(FILES);
    const first = await loadStack(dir);
    const file = path.join(cacheDirOf(dir), readdirSync(cacheDirOf(dir))[0]!);
    writeFileSync(file, damage(readFileSync(file, 'utf8')));
    const damaged = await loadStack(dir);
    expect(damaged).toEqual({ ...first, parsed: 4 });
    expect((await loadStack(dir)).parsed).toBe(0);
  });

  it('reports the problems of a cached parse under the name of the file that has those bytes now', async () => {
    const dir = stackDir(FILES);
    const web = (f: string): string => path.join('services', 'web', f);
    expect(shown(await loadStack(dir))).toEqual([BROKEN_PROBLEM(web('broken.yaml'))]);
    renameSync(path.join(dir, web('broken.yaml')), path.join(dir, web('renamed.yaml')));
    writeFileSync(path.join(dir, web('copy.yaml')), BROKEN);
    const again = await loadStack(dir);
    expect(again.parsed).toBe(0);
    expect(shown(again)).toEqual([BROKEN_PROBLEM(web('copy.yaml')), BROKEN_PROBLEM(web('renamed.yaml'))]);
    const err = (await discover({ dir, displayBase: dir }).catch((e: unknown) => e)) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.problems.map((p) => `${p.location.file}:${p.location.line}:${p.location.col}`)).toEqual([
      `${web('copy.yaml')}:3:1`,
      `${web('renamed.yaml')}:3:1`,
    ]);
  });

  it('writes no cache with cacheDir: false', async () => {
    const dir = stackDir({ ...FILES, 'services/web/broken.yaml': '# fixed\n' });
    await discover({ dir, displayBase: dir, cacheDir: false });
    expect(readdirSync(dir).includes('.deployer')).toBe(false);
  });
});

describe('parsing in worker threads', () => {
  /** 450 files of every sort: valid, several documents, a syntax error, aliases, too deep, empty. */
  function bulk(): Record<string, string> {
    const files: Record<string, string> = { 'stack.yaml': STACK, 'services/bulk/service.yaml': SERVICE.replace('web', 'bulk') };
    for (let i = 0; i < 448; i++) {
      const name = `b${String(i).padStart(3, '0')}`;
      const bucket = `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: ${name}\nspec:\n  versioning: ${i % 2 === 0}\n  tags:\n    index: "${i}"\n`;
      let text = bucket;
      if (i % 50 === 7) text = `${bucket}  cors: [\n`;
      else if (i % 60 === 3) {
        const aliased = bucket.replace('  versioning:', '  versioning: &v').replace('  tags:', '  forceDestroy: *v\n  tags:');
        text = `${aliased}---\n${bucket.replace(name, `${name}x`).replace('    index', '    other')}`;
      } else if (i === 100) text = '{a: '.repeat(200) + '1' + '}'.repeat(200);
      else if (i === 200) text = '';
      files[`services/bulk/${name}.yaml`] = text;
    }
    return files;
  }

  it('parses 450 files in workers, with the same documents and problems as the in-process parser', { timeout: 60_000 }, async () => {
    const dir = stackDir(bulk());
    const files = (await scanStackDir(dir)).base;
    expect(files).toHaveLength(450);
    const display = (f: string): string => path.relative(dir, f);
    const loaded = await loadFiles(files, display, new DocumentCache(undefined));
    expect(workers.created).toBeGreaterThanOrEqual(1);
    expect(loaded.parsed).toBe(450);
    const expected = files.map((f) => ({ f, r: parseFast(display(f), readFileSync(f, 'utf8')) }));
    expect(loaded.docs).toEqual(
      expected.flatMap(({ f, r }) => r.docs.map((d) => ({ file: f, display: display(f), docIndex: d.docIndex, data: d.data }))),
    );
    expect(loaded.problems).toEqual(expected.flatMap(({ r }) => r.problems));
    expect(loaded.problems.map((p) => p.rule).sort()).toEqual([...Array<string>(9).fill('yaml:BAD_INDENT'), 'nesting'].sort());
  });

  it('gives discover() every component of a 450-file stack', { timeout: 60_000 }, async () => {
    const files = bulk();
    for (const [f, text] of Object.entries(files)) if (text.includes('cors: [\n') || text.startsWith('{a: ')) files[f] = '';
    const dir = stackDir(files);
    const stack = await discover({ dir, displayBase: dir, cacheDir: false });
    expect(workers.created).toBeGreaterThanOrEqual(1);
    expect(stack.components.size).toBe(448 - 9 - 2 + 8);
    expect(stack.components.get('bulk/b003')!.spec).toEqual({ versioning: false, forceDestroy: false, tags: { index: '3' } });
    expect(stack.components.get('bulk/b003x')!.spec).toEqual({ versioning: false, tags: { other: '3' } });
  });
});
