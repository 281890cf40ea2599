/**
 * Running one component's build, or taking it from the cache: a hit fetches nothing (the
 * manifest says the digest); a miss runs the builder in the context with a small, declared
 * environment, stores the outputs' bytes (each blob once) and then the manifest, and remembers
 * the inputs as the component's last build (what the next miss is compared with).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildFailedError, CancelledError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import type { BuildConfig } from './build-config.js';
import { BuildCache, digestOfFiles, type ArtifactFile, type ArtifactManifest } from './cache.js';
import { containerBuilder, CONTAINER_BUILDERS, fileSha256, matchFiles, type KeyedBuild } from './keys.js';

/** What one build did. */
export interface BuildOutcome {
  manifest: ArtifactManifest;
  cache: 'hit' | 'miss';
  /** Time spent: the builder's run and the upload on a miss, the lookup on a hit. */
  durationMs: number;
}

/** The variables a build inherits from deployer's environment; everything else it gets is declared (and in the key). */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR', 'TERM', 'SHELL', 'SYSTEMROOT'];

export interface BuildOptions {
  stack: string;
  signal?: AbortSignal;
  /** Each line the builder prints, for progress. */
  onOutput?: (line: string) => void;
}

/** The artifact of `config` at `keyed.key`: from the cache, or built now and stored there. */
export async function buildComponent(config: BuildConfig, keyed: KeyedBuild, cache: BuildCache, o: BuildOptions): Promise<BuildOutcome> {
  const started = Date.now();
  const cached = await cache.manifest(keyed.key);
  if (cached) {
    await cache.putLastBuild(o.stack, config.component, keyed.key, keyed.inputs);
    return { manifest: cached, cache: 'hit', durationMs: Date.now() - started };
  }
  const made =
    config.builder.type === 'command' ? await runCommand(config, config.builder.command, keyed, o) : await runDocker(config, keyed, o);
  const files = made.files ?? (await collectOutputs(config));
  const known = await cache.storedBlobs();
  for (const f of files) await cache.putBlob(f.sha256, await fs.readFile(path.join(config.context, f.path)), known);
  const manifest: ArtifactManifest = {
    format: 'deployer-artifact/v1',
    key: keyed.key,
    digest: made.digest ?? digestOfFiles(files),
    component: config.component,
    builder: config.builder.type,
    builderVersion: keyed.builderVersion,
    files,
    ...(made.image ? { image: made.image } : {}),
    inputs: keyed.inputs,
    builtAt: new Date().toISOString(),
    buildMs: Date.now() - started,
  };
  // Last: a manifest is only ever found with every blob it names already stored.
  await cache.putManifest(manifest);
  await cache.putLastBuild(o.stack, config.component, keyed.key, keyed.inputs);
  return { manifest, cache: 'miss', durationMs: Date.now() - started };
}

interface Made {
  files?: ArtifactFile[];
  digest?: string;
  image?: string;
}

function buildEnv(config: BuildConfig, keyed: KeyedBuild): Record<string, string> {
  const inherited = Object.fromEntries(INHERITED_ENV.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!]));
  return { ...inherited, ...config.env, DEPLOYER_BUILD_KEY: keyed.key, DEPLOYER_COMPONENT: config.component };
}

async function runCommand(config: BuildConfig, command: string[], keyed: KeyedBuild, o: BuildOptions): Promise<Made> {
  const [program, ...args] = command as [string, ...string[]];
  // Loaded when a build (or a scanner) runs: a plan never needs it.
  const { execa } = await import('execa');
  const r = await execa(program, args, {
    cwd: config.context,
    env: buildEnv(config, keyed),
    extendEnv: false,
    timeout: config.timeoutMs,
    stdin: 'ignore',
    all: true,
    reject: false,
    lines: true,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
  });
  const output = (r.all ?? []) as string[];
  for (const line of output) o.onOutput?.(line);
  if (r.isCanceled) throw new CancelledError(`${config.component}: the build was cancelled`);
  if (r.exitCode === 0 && !r.failed) return {};
  const why = r.timedOut
    ? `timed out after ${Math.round(config.timeoutMs / 1000)} s`
    : (r as { code?: string }).code === 'ENOENT'
      ? `${program} was not found`
      : `exited with ${r.exitCode ?? r.signal ?? 'an error'}`;
  throw new BuildFailedError(`${config.component}: the build (${command.join(' ')}) ${why}`, [
    ...output.slice(-15).map((l) => `  ${l}`),
    `It ran in ${config.context}. Nothing was deployed and the cache was not written.`,
  ]);
}

async function runDocker(config: BuildConfig, keyed: KeyedBuild, o: BuildOptions): Promise<Made> {
  const builder = containerBuilder();
  if (builder === undefined) {
    throw new BuildFailedError(`${config.component}: spec.build.dockerfile needs a container builder, and none is on this machine`, [
      `Looked on PATH for ${CONTAINER_BUILDERS.join(' and ')} (or DEPLOYER_CONTAINER_BUILDER). Install one, run this apply where one is, or build with spec.build.command.`,
    ]);
  }
  const dockerfile = config.builder.type === 'dockerfile' ? config.builder.dockerfile : 'Dockerfile';
  const image = `deployer/${config.component.replace('/', '-')}:${keyed.key.slice(0, 12)}`;
  const iidFile = path.join(os.tmpdir(), `deployer-iid-${randomUUID()}`);
  try {
    await runCommand(config, [builder, 'build', '-f', dockerfile, '-t', image, '--iidfile', iidFile, '.'], keyed, o);
    const id = (await fs.readFile(iidFile, 'utf8')).trim();
    return { files: [], digest: id.startsWith('sha256:') ? id : `sha256:${sha256(id)}`, image };
  } finally {
    await fs.rm(iidFile, { force: true });
  }
}

/** The files the build produced, hashed; none is a failed build. */
async function collectOutputs(config: BuildConfig): Promise<ArtifactFile[]> {
  const found = await matchFiles(config.context, config.outputs);
  if (found.length === 0) {
    throw new BuildFailedError(`${config.component}: the build succeeded but produced none of its outputs`, [
      `spec.build.outputs: ${config.outputs.join(', ') || '(none declared)'}, under ${config.context}`,
    ]);
  }
  const files: ArtifactFile[] = [];
  for (const f of found) {
    const full = path.join(config.context, f);
    const st = await fs.stat(full);
    files.push({ path: f, sha256: await fileSha256(full), size: st.size, mode: st.mode & 0o777 });
  }
  return files;
}
