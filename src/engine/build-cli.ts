/**
 * Building the Pulumi CLI from its Go modules, at exactly the version of the installed
 * @pulumi/pulumi (the Automation API checks the version stamp). Takes minutes, so it shows
 * progress; safe to run twice at once: one builder holds the lock `<cache>/pulumi/<version>.lock`
 * (proper-lockfile), builds into a temporary directory and renames it into place; the other waits
 * and then uses it. execa runs `go`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PulumiUnavailableError } from '../errors.js';
import { pulumiSdkVersion } from '../package-info.js';
import { findOnPath } from '../util/process.js';
import { cachedCliRoot, findPulumiCli, type PulumiCli } from './pulumi-cli.js';

export interface EnsureOptions {
  /** One line of progress at a time ("downloading modules: 312", "compiling: 40%"). */
  onProgress?: (message: string) => void;
  signal?: AbortSignal;
  /** Environment to read PULUMI_PATH, PATH, DEPLOYER_CACHE_DIR and Go's settings from (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

/** The one non-local replace directive of pulumi/pkg's own go.mod, which `go get` does not inherit. */
const CLIPBOARD_REPLACE = 'github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e';
const PKG = 'github.com/pulumi/pulumi/pkg/v3';
const SDK = 'github.com/pulumi/pulumi/sdk/v3';
/**
 * A builder refreshes its lock every BUILD_LOCK_UPDATE_MS; one that has not for STALE_BUILD_LOCK_MS
 * is presumed dead (killed, or its machine gone) and its lock is taken over.
 */
const STALE_BUILD_LOCK_MS = 30_000;
const BUILD_LOCK_UPDATE_MS = 5_000;
/** How often a waiting builder looks whether the lock is free. */
const BUILD_LOCK_POLL_MS = 2_000;

/** The Pulumi CLI, built into the cache first if nothing usable is installed. */
export async function ensurePulumiCli(options: EnsureOptions = {}): Promise<PulumiCli> {
  const env = options.env ?? process.env;
  const found = await findPulumiCli(env);
  if (found) return found;
  await buildPulumiCli(options, env);
  const built = await findPulumiCli(env);
  if (!built) throw new PulumiUnavailableError(`built the Pulumi CLI into ${cachedCliRoot(pulumiSdkVersion, env)}, but it does not run`);
  return { ...built, built: true };
}

export function goModFile(goVersion = '1.25.11'): string {
  return ['module pulumibuild', '', `go ${goVersion}`, '', `tool ${PKG}/cmd/pulumi`, '', `replace ${CLIPBOARD_REPLACE}`, ''].join('\n');
}

async function buildPulumiCli(options: EnsureOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const say = options.onProgress ?? (() => undefined);
  const version = pulumiSdkVersion;
  const go = await findGo(env);
  const target = cachedCliRoot(version, env);
  const base = path.dirname(target);
  await fs.mkdir(base, { recursive: true });
  const release = await takeBuildLock(target, say, options.signal);
  try {
    // Somebody else may have finished the build while we waited.
    if (await findPulumiCli(env)) return;
    const work = path.join(base, `.build-${version}-${randomBytes(4).toString('hex')}`);
    await fs.mkdir(path.join(work, 'out', 'bin'), { recursive: true });
    try {
      say(`Building the Pulumi CLI v${version} from Go modules into ${target} (first run only; about 4 to 8 minutes).`);
      await fs.writeFile(path.join(work, 'go.mod'), goModFile());
      const goEnv = { ...env, CGO_ENABLED: '0', GOFLAGS: env['GOFLAGS'] ?? '-buildvcs=false' };
      let downloaded = 0;
      const countDownloads = (line: string): void => {
        if (line.startsWith('go: downloading')) {
          downloaded++;
          if (downloaded % 50 === 0) say(`step 1/3: downloading Go modules (${downloaded} so far)`);
        }
      };
      say('step 1/3: resolving and downloading Go modules (about 1.6 GB the first time)');
      await runGo(go, ['get', `${PKG}@v${version}`, `${SDK}@v${version}`], work, goEnv, countDownloads, options.signal);
      await runGo(go, ['mod', 'tidy'], work, goEnv, countDownloads, options.signal);
      say('step 2/3: listing packages to compile');
      let total = 0;
      await runGo(go, ['list', '-deps', `${PKG}/cmd/pulumi`], work, goEnv, () => void total++, options.signal, 'stdout');
      let compiled = 0;
      let lastShown = 0;
      say(`step 3/3: compiling ${total} packages`);
      await runGo(
        go,
        [
          'build',
          '-v',
          '-trimpath',
          '-tags',
          'osusergo,grpcnotrace',
          '-ldflags',
          `-w -s -X ${SDK}/go/common/version.Version=v${version}`,
          '-o',
          path.join(work, 'out', 'bin', 'pulumi'),
          `${PKG}/cmd/pulumi`,
        ],
        work,
        goEnv,
        (line) => {
          if (line.startsWith('go:') || line.includes(' ')) return;
          compiled++;
          const pct = total > 0 ? Math.min(99, Math.floor((compiled * 100) / total)) : 0;
          if (pct >= lastShown + 10) {
            lastShown = pct - (pct % 10);
            say(`step 3/3: compiling ${compiled}/${total} packages (${pct}%)`);
          }
        },
        options.signal,
      );
      await fs.rm(target, { recursive: true, force: true });
      await fs.rename(path.join(work, 'out'), target);
      say(`Pulumi CLI v${version} is ready: ${path.join(target, 'bin', 'pulumi')}`);
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  } finally {
    await release();
  }
}

async function findGo(env: NodeJS.ProcessEnv): Promise<string> {
  const goroot = env['GOROOT'];
  const found = findOnPath('go', { env, extraDirs: goroot ? [path.join(goroot, 'bin')] : [] });
  if (found) return found;
  throw new PulumiUnavailableError('the Pulumi CLI is not installed, and Go is not available to build it', [
    'deployer builds the Pulumi CLI from its Go modules on first use. Either:',
    '  - install Go 1.25 or newer (https://go.dev/doc/install, or `apt-get install golang-go` where it is recent enough), then run `deployer setup`;',
    `  - or install Pulumi v${pulumiSdkVersion} (or a newer v3) and put it on PATH, or set PULUMI_PATH to the binary.`,
  ]);
}

/** Runs one go command, feeding `onLine` each line of `stream`; its stderr's last lines go with a failure. */
async function runGo(
  go: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
  stream: 'stderr' | 'stdout' = 'stderr',
): Promise<void> {
  const { execa } = await import('execa');
  const subprocess = execa(go, args, {
    cwd,
    env,
    // `env` is the whole environment already (it may not be this process's).
    extendEnv: false,
    stdin: 'ignore',
    // Both streams are read line by line below, so nothing needs buffering.
    buffer: false,
    ...(signal ? { cancelSignal: signal } : {}),
    reject: false,
    // Not even with NODE_DEBUG=execa: go's output reaches the user as progress and the failure's tail.
    verbose: 'none',
  });
  const tail: string[] = [];
  const read = async (from: 'stdout' | 'stderr'): Promise<void> => {
    for await (const line of subprocess.iterable({ from })) {
      if (from === stream) onLine(line);
      if (from === 'stderr') {
        tail.push(line);
        if (tail.length > 40) tail.shift();
      }
    }
  };
  await Promise.all([read('stdout'), read('stderr')]);
  const result = await subprocess;
  if (!result.failed) return;
  if (result.isCanceled) throw new PulumiUnavailableError(`could not run go ${args[0]}: The operation was aborted`);
  if (result.exitCode === undefined && result.signal === undefined) {
    // It never started; Node's message says why.
    throw new PulumiUnavailableError(
      `could not run go ${args[0]}: ${result.cause instanceof Error ? result.cause.message : result.shortMessage}`,
    );
  }
  throw new PulumiUnavailableError(
    `building the Pulumi CLI failed: go ${args.slice(0, 2).join(' ')} exited with ${result.exitCode ?? result.signal}`,
    [
      ...tail.filter((l) => !l.startsWith('go: downloading')).slice(-20),
      'Check that the Go module proxy is reachable (GOPROXY) and that there is about 3 GB of free disk.',
    ],
  );
}

/**
 * Takes the build lock of `target` (proper-lockfile: a directory `<target>.lock` whose mtime the
 * holder keeps fresh), waiting while another builder holds it; notes who holds it beside it for the
 * message a waiting builder shows. Resolves to the release.
 */
async function takeBuildLock(target: string, say: (m: string) => void, signal?: AbortSignal): Promise<() => Promise<void>> {
  // Loaded only when a build is needed: it installs process exit hooks (to remove held locks).
  const { lock } = await import('proper-lockfile');
  const lockDir = `${target}.lock`;
  const holderFile = `${lockDir}.holder`;
  const options = {
    realpath: false,
    stale: STALE_BUILD_LOCK_MS,
    update: BUILD_LOCK_UPDATE_MS,
    // Our lock went stale (a suspended machine) and may have been taken over: that other builder
    // builds into its own directory and renames it into place too, so both finishing is harmless.
    onCompromised: () => undefined,
  };
  let announced = false;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw signal.reason;
    try {
      const release = await lock(target, options);
      // Only for the waiting message below: losing it loses nothing.
      await fs.writeFile(holderFile, `${process.pid}@${os.hostname()}`).catch(() => undefined);
      return async () => {
        await fs.rm(holderFile, { force: true });
        await release().catch((err: NodeJS.ErrnoException) => {
          // Compromised meanwhile (see onCompromised): the lock is no longer ours to remove.
          if (err.code !== 'ERELEASED') throw err;
        });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    }
    if (!announced) {
      // A holder writes its note just after taking the lock: give it one poll to appear.
      const holder = (await fs.readFile(holderFile, 'utf8').catch(() => '')).trim();
      if (holder || attempt > 1) {
        say(`Another deployer (${holder || 'pid unknown'}) is building the Pulumi CLI; waiting for it to finish.`);
        announced = true;
      }
    }
    await sleep(BUILD_LOCK_POLL_MS, undefined, signal ? { signal } : {}).catch(() => undefined);
  }
}
