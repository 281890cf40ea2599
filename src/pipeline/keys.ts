/**
 * Cache keys of builds: the sha256 of the inputs' contents (each file by its path and its own
 * sha256), the builder and its version, and the declared env. The per-file hashes are kept with
 * the artifact, so a miss can name the first file that differs from the component's last build.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { BuildFailedError, InvalidInputError } from '../errors.js';
import { canonicalJson, sha256 } from '../model/hash.js';
import { findOnPath } from '../util/process.js';
import type { BuildConfig } from './build-config.js';

/** Bumped when what a key covers changes: every earlier key then misses once. */
export const KEY_FORMAT = 'deployer-build/v1';

/** A build's key and what it was made of. */
export interface KeyedBuild {
  key: string;
  /** Each input by its path relative to the context (with `/`), to its sha256. */
  inputs: Record<string, string>;
  builderVersion: string;
}

/** sha256 of a file's bytes, streamed (an input may be large). */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The files `patterns` match under `dir` (outputs left out of inputs), sorted, with `/` separators. */
export async function matchFiles(dir: string, patterns: string[], ignore: string[] = []): Promise<string[]> {
  if (patterns.length === 0) return [];
  const { glob } = await import('tinyglobby');
  const found = await glob(patterns, {
    cwd: dir,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    ignore,
    expandDirectories: false,
  });
  return found.map((f) => f.split(path.sep).join('/')).sort();
}

/** Versions asked of a builder program, once per process (`node --version` costs a process start). */
const askedVersions = new Map<string, Promise<string>>();

/** What a builder program says its version is; the spec's `builderVersion` wins. */
export function builderVersionOf(config: BuildConfig): Promise<string> {
  if (config.builderVersion !== undefined) return Promise.resolve(config.builderVersion);
  const program = config.builder.type === 'command' ? config.builder.command[0]! : containerBuilder();
  // No container builder here: the key says so, the plan shows a miss, and the build explains (build.ts).
  if (program === undefined) return Promise.resolve('no container builder');
  const key = `${config.context}\0${program}`;
  let asked = askedVersions.get(key);
  if (!asked) {
    // The node running deployer answers `--version` with process.version: no process to start.
    asked = isThisNode(program, config.context) ? Promise.resolve(process.version) : askVersion(program, config);
    askedVersions.set(key, asked);
  }
  return asked;
}

/** Runs `program --version` from the build context: the first line it prints. */
function askVersion(program: string, config: BuildConfig): Promise<string> {
  // node:child_process rather than execa: this runs on every plan of a stack that builds, and
  // loading execa costs more (about 130 ms) than the question itself.
  return new Promise<string>((resolve, reject) => {
    const child = execFile(program, ['--version'], { cwd: config.context, timeout: 30_000 }, (err, stdout) => {
      if (!err) return resolve(String(stdout).trim().split('\n')[0] ?? '');
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(
          new BuildFailedError(`${config.component}: the build program ${program} was not found`, [
            `Looked for it on PATH from ${config.context}. Install it, or set spec.build.command to a program that exists.`,
          ]),
        );
      }
      // A program that has no --version is still a builder: its identity is its name.
      resolve(`${path.basename(program)} (no --version)`);
    });
    child.stdin?.end();
  });
}

/** Whether `program`, as found from `cwd`, is the very node executable this process runs in. */
function isThisNode(program: string, cwd: string): boolean {
  const found = program.includes('/') ? path.resolve(cwd, program) : findOnPath(program);
  if (found === undefined) return false;
  try {
    return realpathSync(found) === realpathSync(process.execPath);
  } catch {
    return false;
  }
}

/** The key of `config`'s build as its inputs are now. */
export async function keyOf(config: BuildConfig): Promise<KeyedBuild> {
  const stat = await fs.stat(config.context).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new InvalidInputError(`${config.component}: the build context ${config.context} is not a directory`, [
      'spec.build.context is relative to the file that defines the component.',
    ]);
  }
  const files = await matchFiles(config.context, config.inputs, config.outputs);
  if (files.length === 0) {
    throw new InvalidInputError(`${config.component}: spec.build.inputs match no file under ${config.context}`, [
      `patterns: ${config.inputs.join(', ')}`,
    ]);
  }
  const inputs: Record<string, string> = {};
  for (const f of files) inputs[f] = await fileSha256(path.join(config.context, f));
  const builderVersion = await builderVersionOf(config);
  const builder =
    config.builder.type === 'command'
      ? { command: config.builder.command }
      : { dockerfile: config.builder.dockerfile, dockerfileSha256: inputs[config.builder.dockerfile] ?? null };
  const key = sha256(canonicalJson({ format: KEY_FORMAT, builder, builderVersion, env: config.env, inputs, outputs: config.outputs }));
  return { key, inputs, builderVersion };
}

/** Why `now` misses where `last` was built: the first input added, removed or changed, else the settings. */
export function whatChanged(now: Record<string, string>, last: Record<string, string> | undefined): string {
  if (!last) return 'never built';
  const paths = [...new Set([...Object.keys(now), ...Object.keys(last)])].sort();
  const differ = paths.filter((p) => now[p] !== last[p]);
  if (differ.length === 0) return 'build settings changed';
  const first = differ[0]!;
  const how = last[first] === undefined ? 'added' : now[first] === undefined ? 'removed' : 'changed';
  return `${first} ${how}${differ.length > 1 ? ` (+${differ.length - 1} more)` : ''}`;
}

/** The builders a Dockerfile build can use, in the order they are looked for. */
export const CONTAINER_BUILDERS = ['docker', 'podman'] as const;

/** The container builder on PATH (or DEPLOYER_CONTAINER_BUILDER), for a Dockerfile build; undefined when there is none. */
export function containerBuilder(): string | undefined {
  const chosen = process.env['DEPLOYER_CONTAINER_BUILDER'];
  if (chosen) return chosen;
  return CONTAINER_BUILDERS.find((b) => findOnPath(b) !== undefined);
}
