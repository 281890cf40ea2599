/** Finding and provisioning the Pulumi CLI, with stand-in binaries (the real one is tested end to end). */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deployer-cli-'));
  process.env['DEPLOYER_CACHE_DIR'] = path.join(tmp, 'cache');
  delete process.env['PULUMI_PATH'];
  // No pulumi on PATH, but the system tools (sh) and Go stay reachable.
  process.env['PATH'] = (saved['PATH'] ?? '').split(':').filter((d) => !d.includes('pulumi')).join(':');
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
    const lock = path.join(process.env['DEPLOYER_CACHE_DIR']!, 'pulumi', '.build.lock');
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${process.pid}@${os.hostname()}`);
    const progress: string[] = [];
    const waiting = ensurePulumiCli({ onProgress: (m) => progress.push(m) });
    await new Promise((r) => setTimeout(r, 500));
    // The other builder finishes: its binary appears and its lock goes away.
    fakePulumi(path.join(cachedCliRoot(), 'bin', 'pulumi'), `v${pulumiSdkVersion}`);
    rmSync(lock);
    expect(await waiting).toMatchObject({ source: 'cache' });
    expect(progress.join('\n')).toMatch(/Another deployer .* is building the Pulumi CLI; waiting/);
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
