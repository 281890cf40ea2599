/**
 * Building the Pulumi CLI from its Go modules, at exactly the version of the installed
 * @pulumi/pulumi (the Automation API checks the version stamp). Takes minutes, so it shows
 * progress; safe to run twice at once: one builder holds `<cache>/pulumi/.build.lock`, builds
 * into a temporary directory and renames it into place; the other waits and then uses it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PulumiUnavailableError } from '../errors.js';
import { pulumiSdkVersion } from '../package-info.js';
import { cachedCliRoot, findPulumiCli, type PulumiCli } from './pulumi-cli.js';
import { isAlive } from '../util/process.js';

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
/** A builder that has not touched its lock for this long is presumed dead. */
const STALE_BUILD_LOCK_MS = 60 * 60 * 1000;

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
  return [
    'module pulumibuild',
    '',
    `go ${goVersion}`,
    '',
    `tool ${PKG}/cmd/pulumi`,
    '',
    `replace ${CLIPBOARD_REPLACE}`,
    '',
  ].join('\n');
}

async function buildPulumiCli(options: EnsureOptions, env: NodeJS.ProcessEnv): Promise<void> {
  const say = options.onProgress ?? (() => undefined);
  const version = pulumiSdkVersion;
  const go = await findGo(env);
  const target = cachedCliRoot(version, env);
  const base = path.dirname(target);
  await fs.mkdir(base, { recursive: true });
  const release = await takeBuildLock(path.join(base, '.build.lock'), say, options.signal);
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
        ['build', '-v', '-trimpath', '-tags', 'osusergo,grpcnotrace', '-ldflags', `-w -s -X ${SDK}/go/common/version.Version=v${version}`, '-o', path.join(work, 'out', 'bin', 'pulumi'), `${PKG}/cmd/pulumi`],
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
  for (const dir of [...(env['PATH'] ?? '').split(path.delimiter), ...(goroot ? [path.join(goroot, 'bin')] : [])]) {
    if (!dir) continue;
    const candidate = path.join(dir, 'go');
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new PulumiUnavailableError('the Pulumi CLI is not installed, and Go is not available to build it', [
    'deployer builds the Pulumi CLI from its Go modules on first use. Either:',
    '  - install Go 1.25 or newer (https://go.dev/doc/install, or `apt-get install golang-go` where it is recent enough), then run `deployer setup`;',
    `  - or install Pulumi v${pulumiSdkVersion} (or a newer v3) and put it on PATH, or set PULUMI_PATH to the binary.`,
  ]);
}

function runGo(
  go: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
  stream: 'stderr' | 'stdout' = 'stderr',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    const tail: string[] = [];
    const feed = (which: 'stderr' | 'stdout') => {
      let buffer = '';
      return (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          if (which === stream) onLine(line);
          if (which === 'stderr') {
            tail.push(line);
            if (tail.length > 40) tail.shift();
          }
        }
      };
    };
    child.stdout.on('data', feed('stdout'));
    child.stderr.on('data', feed('stderr'));
    child.on('error', (err) => reject(new PulumiUnavailableError(`could not run go ${args[0]}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        reject(
          new PulumiUnavailableError(`building the Pulumi CLI failed: go ${args.slice(0, 2).join(' ')} exited with ${code}`, [
            ...tail.filter((l) => !l.startsWith('go: downloading')).slice(-20),
            'Check that the Go module proxy is reachable (GOPROXY) and that there is about 3 GB of free disk.',
          ]),
        );
      }
    });
  });
}

/** An exclusive lock file holding `pid@host`; a dead or silent holder's lock is broken. */
async function takeBuildLock(file: string, say: (m: string) => void, signal?: AbortSignal): Promise<() => Promise<void>> {
  const me = `${process.pid}@${os.hostname()}`;
  let announced = false;
  while (true) {
    if (signal?.aborted) throw signal.reason;
    try {
      await fs.writeFile(file, me, { flag: 'wx' });
      const beat = setInterval(() => void fs.utimes(file, new Date(), new Date()).catch(() => undefined), 30_000);
      beat.unref();
      return async () => {
        clearInterval(beat);
        await fs.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = (await fs.readFile(file, 'utf8').catch(() => '')).trim();
    const st = await fs.stat(file).catch(() => undefined);
    const [pid, host] = holder.split('@');
    const dead = host === os.hostname() && pid !== undefined && !isAlive(Number(pid));
    if (!st || dead || Date.now() - st.mtimeMs > STALE_BUILD_LOCK_MS) {
      await fs.rm(file, { force: true });
      continue;
    }
    if (!announced) {
      say(`Another deployer (${holder}) is building the Pulumi CLI; waiting for it to finish.`);
      announced = true;
    }
    await sleep(2000);
  }
}
