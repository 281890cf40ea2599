/** Finding and provisioning the Pulumi CLI, with stand-in binaries (the real one is tested end to end). */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PulumiUnavailableError } from '../errors.js';
import { pulumiSdkVersion } from '../package-info.js';
import { ensurePulumiCli, goModFile } from './build-cli.js';
import { cachedCliRoot, findPulumiCli, isCompatible, parseVersion } from './pulumi-cli.js';

let tmp: string;
const saved = { ...process.env };

/** A stand-in `pulumi` that prints a version. */
function fakePulumi(file: string, version: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\necho ${version}\n`);
  chmodSync(file, 0o755);
  return file;
}

/**
 * A stand-in `go` on PATH that acts the build's four steps out in a moment: `get` downloads
 * (says so on stderr, or fails when `failAt` is `get`), `list` names three packages, `build`
 * writes a stand-in pulumi at its `-o`; `sleepAt` makes that step say one line and hang instead.
 */
function fakeGo(o: { failAt?: string; sleepAt?: string } = {}): void {
  const dir = path.join(tmp, 'go-bin');
  mkdirSync(dir, { recursive: true });
  const script = [
    '#!/bin/sh',
    `[ "$1" = "${o.sleepAt ?? '-'}" ] && { echo a >&2; exec sleep 60; }`,
    `if [ "$1" = "${o.failAt ?? '-'}" ]; then echo 'go: downloading example.com/m v1.0.0' >&2; echo 'verifying example.com/m: checksum mismatch' >&2; exit 1; fi`,
    'case "$1" in',
    "  get) echo 'go: downloading example.com/m v1.0.0' >&2 ;;",
    "  list) printf 'a\\nb\\nc\\n' ;;",
    '  build) while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done',
    `     printf '#!/bin/sh\\necho v${pulumiSdkVersion}\\n' > "$out"; chmod 755 "$out"; printf 'a\\nb\\nc\\n' >&2 ;;`,
    'esac',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'go'), script);
  chmodSync(path.join(dir, 'go'), 0o755);
  process.env['PATH'] = `${dir}:${process.env['PATH']}`;
}

/** Resolves once `onProgress` reports a line matching `pattern` (the event a test waits for). */
function progressUntil(pattern: RegExp): { lines: string[]; onProgress: (m: string) => void; seen: Promise<void> } {
  const lines: string[] = [];
  let resolve!: () => void;
  const seen = new Promise<void>((r) => (resolve = r));
  const onProgress = (m: string): void => {
    lines.push(m);
    if (pattern.test(m)) resolve();
  };
  return { lines, onProgress, seen };
}

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deployer-cli-'));
  process.env['DEPLOYER_CACHE_DIR'] = path.join(tmp, 'cache');
  delete process.env['PULUMI_PATH'];
  // No pulumi on PATH, but the system tools (sh) and Go stay reachable.
  process.env['PATH'] = (saved['PATH'] ?? '')
    .split(':')
    .filter((d) => !d.includes('pulumi'))
    .join(':');
});

afterEach(() => {
  process.env = { ...saved };
  rmSync(tmp, { recursive: true, force: true });
});

describe('isCompatible', () => {
  it('accepts the SDK version and newer v3 releases, refuses older or v4', () => {
    expect(isCompatible('v3.259.0', '3.259.0')).toBe(true);
    expect(isCompatible('v3.259.1', '3.259.0')).toBe(true);
    expect(isCompatible('v3.270.0', '3.259.0')).toBe(true);
    expect(isCompatible('v3.258.9', '3.259.0')).toBe(false);
    expect(isCompatible('v4.0.0', '3.259.0')).toBe(false);
    expect(isCompatible('not a version', '3.259.0')).toBe(false);
    expect(parseVersion('v3.259.0-dev')).toEqual({ major: 3, minor: 259, patch: 0 });
  });
});

describe('findPulumiCli', () => {
  it('uses PULUMI_PATH (a binary anywhere), giving it a bin/pulumi root', async () => {
    const bin = fakePulumi(path.join(tmp, 'somewhere', 'my-pulumi'), `v${pulumiSdkVersion}`);
    process.env['PULUMI_PATH'] = bin;
    const cli = await findPulumiCli();
    expect(cli).toMatchObject({ binary: bin, source: 'PULUMI_PATH', version: `v${pulumiSdkVersion}` });
    expect(path.basename(path.join(cli!.root, 'bin', 'pulumi'))).toBe('pulumi');
  });

  it('refuses a PULUMI_PATH that is missing or too old, naming it', async () => {
    process.env['PULUMI_PATH'] = path.join(tmp, 'nothing-here');
    await expect(findPulumiCli()).rejects.toThrow(/PULUMI_PATH=.*nothing-here is not a working pulumi binary/);
    process.env['PULUMI_PATH'] = fakePulumi(path.join(tmp, 'old', 'bin', 'pulumi'), 'v3.100.0');
    await expect(findPulumiCli()).rejects.toThrow(new RegExp(`Pulumi v3.100.0; deployer needs v${pulumiSdkVersion}`));
  });

  it('uses pulumi on PATH at a compatible version, else the cached build', async () => {
    expect(await findPulumiCli()).toBeUndefined();
    const cached = fakePulumi(path.join(cachedCliRoot(), 'bin', 'pulumi'), `v${pulumiSdkVersion}`);
    expect(await findPulumiCli()).toMatchObject({ binary: cached, root: cachedCliRoot(), source: 'cache' });
    const onPath = fakePulumi(path.join(tmp, 'path-bin', 'pulumi'), `v${pulumiSdkVersion}`);
    process.env['PATH'] = `${path.dirname(onPath)}:${process.env['PATH']}`;
    expect(await findPulumiCli()).toMatchObject({ binary: onPath, source: 'PATH' });
    fakePulumi(onPath, 'v3.1.0');
    expect(await findPulumiCli()).toMatchObject({ source: 'cache' });
  });
});

describe('ensurePulumiCli', () => {
  it('says what to install when neither Pulumi nor Go is available', async () => {
    process.env['PATH'] = path.join(tmp, 'empty');
    delete process.env['GOROOT'];
    const err = await ensurePulumiCli().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulumiUnavailableError);
    expect((err as PulumiUnavailableError).message).toMatch(/Go is not available to build it/);
    expect((err as PulumiUnavailableError).details.join('\n')).toMatch(/install Go 1.25 or newer.*PULUMI_PATH/s);
  });

  it('waits for a build another process is running, then uses its result', async () => {
    // The other builder holds the lock as build-cli.ts takes it.
    mkdirSync(path.dirname(cachedCliRoot()), { recursive: true });
    const release = await lock(cachedCliRoot(), { realpath: false });
    writeFileSync(`${cachedCliRoot()}.lock.holder`, `4242@${os.hostname()}`);
    const progress = progressUntil(/waiting for it to finish/);
    const waiting = ensurePulumiCli({ onProgress: progress.onProgress });
    await progress.seen;
    // The other builder finishes: its binary appears and its lock goes away.
    fakePulumi(path.join(cachedCliRoot(), 'bin', 'pulumi'), `v${pulumiSdkVersion}`);
    await release();
    expect(await waiting).toMatchObject({ source: 'cache' });
    expect(progress.lines).toContain(`Another deployer (4242@${os.hostname()}) is building the Pulumi CLI; waiting for it to finish.`);
    expect(existsSync(`${cachedCliRoot()}.lock`)).toBe(false);
  });

  it('takes over the stale lock of a builder that died, and builds, showing its steps', async () => {
    fakeGo();
    mkdirSync(path.dirname(cachedCliRoot()), { recursive: true });
    // A builder in another process takes the lock and is killed outright (no exit hook runs).
    const lockfile = createRequire(import.meta.url).resolve('proper-lockfile');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(lockfile)}).lock(${JSON.stringify(cachedCliRoot())}, { realpath: false }).then(() => console.log('locked')); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(holder, 'exit').then(() => Promise.reject(new Error('the lock holder exited')));
    const [line] = (await Promise.race([once(holder.stdout, 'data'), exited])) as [Buffer];
    exited.catch(() => undefined);
    expect(line.toString()).toBe('locked\n');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    // Nobody has refreshed it for a minute: stale.
    const past = new Date(Date.now() - 60_000);
    utimesSync(`${cachedCliRoot()}.lock`, past, past);
    const progress = progressUntil(/is ready/);
    const cli = await ensurePulumiCli({ onProgress: progress.onProgress });
    expect(cli).toMatchObject({ source: 'cache', built: true, version: `v${pulumiSdkVersion}` });
    expect(progress.lines.join('\n')).not.toMatch(/waiting/);
    expect(progress.lines).toEqual(
      expect.arrayContaining([
        'step 2/3: listing packages to compile',
        'step 3/3: compiling 3 packages',
        `Pulumi CLI v${pulumiSdkVersion} is ready: ${path.join(cachedCliRoot(), 'bin', 'pulumi')}`,
      ]),
    );
    // Its lock and its temporary build directory are gone.
    expect(readdirSync(path.dirname(cachedCliRoot()))).toEqual([pulumiSdkVersion]);
  });

  it('a failed go step fails with its last lines (downloads left out), and releases the lock', async () => {
    fakeGo({ failAt: 'get' });
    const err = await ensurePulumiCli().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PulumiUnavailableError);
    expect((err as PulumiUnavailableError).message).toBe(
      `building the Pulumi CLI failed: go get github.com/pulumi/pulumi/pkg/v3@v${pulumiSdkVersion} exited with 1`,
    );
    expect((err as PulumiUnavailableError).details).toEqual([
      'verifying example.com/m: checksum mismatch',
      expect.stringMatching(/GOPROXY/),
    ]);
    expect(readdirSync(path.dirname(cachedCliRoot()))).toEqual([]);
  });

  it('stops the go step it is in when cancelled', async () => {
    fakeGo({ sleepAt: 'build' });
    const cancel = new AbortController();
    // It is running: it has reported compiling its first package.
    const progress = progressUntil(/compiling 1\/3 packages/);
    const building = ensurePulumiCli({ onProgress: progress.onProgress, signal: cancel.signal });
    await progress.seen;
    cancel.abort();
    await expect(building).rejects.toThrow('could not run go build: The operation was aborted');
    expect(readdirSync(path.dirname(cachedCliRoot()))).toEqual([]);
  });
});

describe('goModFile', () => {
  it('pins the pulumi tool and carries the clipboard replace of pulumi/pkg', () => {
    const mod = goModFile();
    expect(mod).toMatch(/^module pulumibuild$/m);
    expect(mod).toMatch(/^tool github.com\/pulumi\/pulumi\/pkg\/v3\/cmd\/pulumi$/m);
    expect(mod).toMatch(/^replace github.com\/atotto\/clipboard => github.com\/tgummerer\/clipboard /m);
  });
});
