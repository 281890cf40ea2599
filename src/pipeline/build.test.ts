/**
 * Builds and the cache on every backend the state can live on (memory, a directory, S3 on
 * s3rver): a miss builds and stores, the same inputs hit without running the builder — also on
 * a second runner sharing the backend — and a changed input misses, naming the file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Emulator } from '../../test/helpers/emulators.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { BuildFailedError } from '../errors.js';
import { FileBlobs } from '../state/file.js';
import { MemoryBlobs } from '../state/memory.js';
import { parseS3Url, S3Blobs } from '../state/s3.js';
import type { BlobStore } from '../state/index.js';
import { buildConfigOf } from './build-config.js';
import { buildComponent } from './build.js';
import { BuildCache } from './cache.js';
import { keyOf, whatChanged } from './keys.js';
import { materialize } from './materialize.js';

const tmp = useTempDirs('build');
let s3: S3Emulator;
let buckets = 0;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3.close();
});

/** A project whose build copies src/ to dist/ and stamps dist/ with its own key. */
function project(dir: string, app = 'export const greeting = "hello";\n'): { id: string; spec: Record<string, unknown>; baseDir: string } {
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'src/app.mjs'), app);
  writeFileSync(
    path.join(dir, 'build.mjs'),
    "import { cpSync, mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('dist', { recursive: true });\ncpSync('src', 'dist', { recursive: true });\nwriteFileSync('dist/run.sh', '#!/bin/sh\\necho run\\n', { mode: 0o755 });\nconsole.log('built with ' + process.env.GREETING_STYLE);\n",
  );
  return {
    id: 'web/api',
    baseDir: dir,
    spec: {
      build: {
        command: [process.execPath, 'build.mjs'],
        inputs: ['src/**', 'build.mjs'],
        outputs: ['dist/**'],
        env: { GREETING_STYLE: 'plain' },
      },
    },
  };
}

const backends: Array<[string, () => Promise<BlobStore>]> = [
  ['memory', async () => new MemoryBlobs()],
  ['a directory', async () => new FileBlobs(tmp())],
  ['S3 (s3rver)', async () => new S3Blobs(parseS3Url(await s3.stateUrl(`builds-${++buckets}-${process.pid}`)))],
];

describe.each(backends)('the build cache on %s', (_name, open) => {
  it('a miss builds and stores the artifact; the same inputs hit without running the builder; a changed input misses, naming it', async () => {
    const cache = new BuildCache(await open(), 'builds/');
    const dir = tmp();
    const config = buildConfigOf(project(dir))!;
    const first = await keyOf(config);
    expect(await cache.manifest(first.key)).toBeUndefined();
    const lines: string[] = [];
    const built = await buildComponent(config, first, cache, { stack: 'shop', onOutput: (l) => lines.push(l) });
    expect(built.cache).toBe('miss');
    expect(lines).toEqual(['built with plain']);
    expect(built.manifest.files.map((f) => f.path)).toEqual(['dist/app.mjs', 'dist/run.sh']);
    expect(built.manifest.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The builder does not run on a hit: dist/ removed stays removed.
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dir, 'dist'), { recursive: true });
    const again = await buildComponent(config, await keyOf(config), cache, { stack: 'shop' });
    expect(again.cache).toBe('hit');
    expect(again.manifest.digest).toBe(built.manifest.digest);
    expect(existsSync(path.join(dir, 'dist'))).toBe(false);

    // A changed input: another key, and the last build says which file changed.
    writeFileSync(path.join(dir, 'src/app.mjs'), 'export const greeting = "hi";\n');
    const changed = await keyOf(config);
    expect(changed.key).not.toBe(first.key);
    expect(whatChanged(changed.inputs, (await cache.lastBuild('shop', 'web/api'))?.inputs)).toBe('src/app.mjs changed');
    const rebuilt = await buildComponent(config, changed, cache, { stack: 'shop' });
    expect(rebuilt.cache).toBe('miss');
    expect(rebuilt.manifest.digest).not.toBe(built.manifest.digest);
  });

  it('a second runner sharing the backend never builds: it unpacks the same files, the executable bit kept', async () => {
    const blobs = await open();
    const runnerA = tmp();
    const runnerB = tmp();
    const a = buildConfigOf(project(runnerA))!;
    const b = buildConfigOf(project(runnerB))!;
    const builtA = await buildComponent(a, await keyOf(a), new BuildCache(blobs, 'builds/'), { stack: 'shop' });
    const keyB = await keyOf(b);
    expect(keyB.key).toBe(builtA.manifest.key); // where the project lies is not part of the key
    const cacheB = new BuildCache(blobs, 'builds/');
    const builtB = await buildComponent(b, keyB, cacheB, { stack: 'shop' });
    expect(builtB).toMatchObject({ cache: 'hit', manifest: { digest: builtA.manifest.digest } });
    expect(existsSync(path.join(runnerB, 'dist'))).toBe(false);
    const unpacked = await materialize(builtB.manifest, cacheB, path.join(runnerB, '.deployer/artifacts'));
    expect(readFileSync(path.join(unpacked, 'dist/app.mjs'), 'utf8')).toBe('export const greeting = "hello";\n');
    const { statSync } = await import('node:fs');
    expect(statSync(path.join(unpacked, 'dist/run.sh')).mode & 0o111).not.toBe(0);
    // Unpacking again finds it complete.
    expect(await materialize(builtB.manifest, cacheB, path.join(runnerB, '.deployer/artifacts'))).toBe(unpacked);
  });

  it('a failed build stores nothing, and names the command, its exit and its last output', async () => {
    const blobs = await open();
    const cache = new BuildCache(blobs, 'builds/');
    const dir = tmp();
    const c = project(dir);
    writeFileSync(path.join(dir, 'build.mjs'), "console.log('compiling'); console.error('src/app.mjs:1 syntax error'); process.exit(3);\n");
    const config = buildConfigOf(c)!;
    const err = await buildComponent(config, await keyOf(config), cache, { stack: 'shop' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildFailedError);
    expect((err as BuildFailedError).message).toMatch(/web\/api: the build \(.*build\.mjs\) exited with 3/);
    expect((err as BuildFailedError).details.join('\n')).toContain('src/app.mjs:1 syntax error');
    expect(await blobs.list('builds/')).toEqual([]);
  });
});

describe('the build cache, refusals', () => {
  it('a damaged blob is refused when unpacking, and nothing half-unpacked is left', async () => {
    const blobs = new MemoryBlobs();
    const cache = new BuildCache(blobs, 'builds/');
    const dir = tmp();
    const config = buildConfigOf(project(dir))!;
    const built = await buildComponent(config, await keyOf(config), cache, { stack: 'shop' });
    await blobs.put(`builds/blobs/${built.manifest.files[0]!.sha256}`, 'tampered');
    const root = path.join(tmp(), 'artifacts');
    await expect(materialize(built.manifest, cache, root)).rejects.toThrow(/build cache at memory:\/\/builds\/ is damaged: dist\/app.mjs/);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(root)).toEqual([]);
  });

  it('inputs that match nothing, and outputs never produced, are explained', async () => {
    const dir = tmp();
    const c = project(dir);
    const noInputs = buildConfigOf({ ...c, spec: { build: { ...(c.spec['build'] as object), inputs: ['lib/**'] } } })!;
    await expect(keyOf(noInputs)).rejects.toThrow(/spec.build.inputs match no file/);
    const noOutputs = buildConfigOf({ ...c, spec: { build: { ...(c.spec['build'] as object), outputs: ['out/**'] } } })!;
    await expect(
      buildComponent(noOutputs, await keyOf(noOutputs), new BuildCache(new MemoryBlobs(), 'builds/'), { stack: 's' }),
    ).rejects.toThrow(/succeeded but produced none of its outputs/);
  });

  it("the builder's version is what its --version prints, this node's included", async () => {
    const dir = tmp();
    const c = project(dir);
    expect((await keyOf(buildConfigOf(c)!)).builderVersion).toBe(process.version);
    writeFileSync(path.join(dir, 'builder.sh'), '#!/bin/sh\necho "builder 7.1.2"\necho more\n', { mode: 0o755 });
    const other = buildConfigOf({ ...c, spec: { build: { ...(c.spec['build'] as object), command: ['./builder.sh'] } } })!;
    expect((await keyOf(other)).builderVersion).toBe('builder 7.1.2');
  });

  it('a Dockerfile build with no container builder here says what is missing', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
    const config = buildConfigOf({ id: 'web/img', baseDir: dir, spec: { build: { dockerfile: 'Dockerfile', inputs: ['Dockerfile'] } } })!;
    const before = process.env['PATH'];
    process.env['PATH'] = dir; // nothing runnable there
    try {
      const keyed = await keyOf(config);
      expect(keyed.builderVersion).toBe('no container builder');
      await expect(buildComponent(config, keyed, new BuildCache(new MemoryBlobs(), 'builds/'), { stack: 's' })).rejects.toThrow(
        /needs a container builder, and none is on this machine/,
      );
    } finally {
      process.env['PATH'] = before;
    }
  });
});
