/**
 * Finding the Pulumi CLI: PULUMI_PATH, else `pulumi` on PATH at a compatible version, else the
 * cached build in `~/.cache/deployer/pulumi/<version>/bin/`. Building it lives in build-cli.ts.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PulumiUnavailableError } from '../errors.js';
import { pulumiSdkVersion } from '../package-info.js';
import { findOnPath } from '../util/process.js';

export type PulumiSource = 'PULUMI_PATH' | 'PATH' | 'cache';

export interface PulumiCli {
  /** The `pulumi` binary. */
  binary: string;
  /** A directory holding `bin/pulumi` (what the Automation API's PulumiCommand.get wants). */
  root: string;
  version: string;
  source: PulumiSource;
  /** True when this call built it (into the cache). */
  built?: boolean;
}

/** `~/.cache/deployer` (or `$DEPLOYER_CACHE_DIR`, or `$XDG_CACHE_HOME/deployer`). */
export function deployerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['DEPLOYER_CACHE_DIR'];
  if (explicit) return path.resolve(explicit);
  const xdg = env['XDG_CACHE_HOME'];
  return path.join(xdg ? path.resolve(xdg) : path.join(os.homedir(), '.cache'), 'deployer');
}

/** Where the CLI built for `version` lives: `<cache>/pulumi/<version>`, holding `bin/pulumi`. */
export function cachedCliRoot(version = pulumiSdkVersion, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(deployerCacheDir(env), 'pulumi', version);
}

interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(text: string): SemVer | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** A CLI works with the SDK when it has the same major version and is not older. */
export function isCompatible(cliVersion: string, sdkVersion = pulumiSdkVersion): boolean {
  const cli = parseVersion(cliVersion);
  const sdk = parseVersion(sdkVersion);
  if (!cli || !sdk || cli.major !== sdk.major) return false;
  if (cli.minor !== sdk.minor) return cli.minor > sdk.minor;
  return cli.patch >= sdk.patch;
}

async function versionOf(binary: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    // `env` is the whole environment (extendEnv: false): it may not be this process's.
    const { execa } = await import('execa');
    const { stdout } = await execa(binary, ['version'], {
      env: { ...env, PULUMI_SKIP_UPDATE_CHECK: 'true' },
      extendEnv: false,
      stdin: 'ignore',
      timeout: 30_000,
      verbose: 'none',
    });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    await fs.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** PulumiCommand wants `<root>/bin/pulumi`; give a binary elsewhere a root of symlinks. */
async function rootFor(binary: string, env: NodeJS.ProcessEnv): Promise<string> {
  const dir = path.dirname(binary);
  if (path.basename(dir) === 'bin' && path.basename(binary) === 'pulumi') return path.dirname(dir);
  const shim = path.join(deployerCacheDir(env), 'pulumi', 'shims', Buffer.from(binary).toString('base64url').slice(-60));
  await fs.mkdir(path.join(shim, 'bin'), { recursive: true });
  const link = path.join(shim, 'bin', 'pulumi');
  await fs.rm(link, { force: true });
  await fs.symlink(binary, link);
  return shim;
}

/**
 * The Pulumi CLI to use, or undefined when only a build would give one.
 * PULUMI_PATH is an explicit choice: when it points at nothing usable, that is an error.
 */
export async function findPulumiCli(env: NodeJS.ProcessEnv = process.env): Promise<PulumiCli | undefined> {
  const explicit = env['PULUMI_PATH'];
  if (explicit) {
    let binary = path.resolve(explicit);
    if ((await fs.stat(binary).catch(() => undefined))?.isDirectory()) {
      const inBin = path.join(binary, 'bin', 'pulumi');
      binary = (await isExecutable(inBin)) ? inBin : path.join(binary, 'pulumi');
    }
    const version = (await isExecutable(binary)) ? await versionOf(binary, env) : undefined;
    if (!version) throw new PulumiUnavailableError(`PULUMI_PATH=${explicit} is not a working pulumi binary`);
    if (!isCompatible(version)) {
      throw new PulumiUnavailableError(`PULUMI_PATH=${explicit} is Pulumi ${version}; deployer needs v${pulumiSdkVersion} or a newer v3`);
    }
    return { binary, root: await rootFor(binary, env), version, source: 'PULUMI_PATH' };
  }
  const found = findOnPath('pulumi', { env });
  if (found) {
    const version = await versionOf(found, env);
    if (version && isCompatible(version))
      return { binary: found, root: await rootFor(await fs.realpath(found), env), version, source: 'PATH' };
  }
  const cached = path.join(cachedCliRoot(pulumiSdkVersion, env), 'bin', 'pulumi');
  if (await isExecutable(cached)) {
    const version = await versionOf(cached, env);
    if (version && isCompatible(version)) return { binary: cached, root: cachedCliRoot(pulumiSdkVersion, env), version, source: 'cache' };
  }
  return undefined;
}
