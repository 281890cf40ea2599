/**
 * The stacks a server serves: directories given to `deployer serve` (`-C`, repeatable), each
 * with its Stack document's name and environments, and the settings a run of it uses (the
 * directory's deployer.config.yaml and DEPLOYER_* variables, as the CLI would read them there).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveSettings, type Settings } from '../config/index.js';
import { InvalidInputError } from '../errors.js';
import { isExpired, openLockManager, stackLockKey, type LockInfo } from '../lock/index.js';
import { yamlLib } from '../util/yaml-lib.js';

/** One stack the server serves. */
export interface ServedStack {
  name: string;
  /** Absolute directory. */
  dir: string;
  environments: string[];
}

/** A stack and environment's lock, as the API shows it. */
export interface StackLock {
  stack: string;
  environment: string;
  /** The holder, when held (an expired lock is shown, marked expired: its holder likely died). */
  holder: (Omit<LockInfo, 'lockedAt' | 'expiresAt'> & { lockedAt: string; expiresAt: string; expired: boolean }) | null;
}

/** The stacks a server serves, the settings of a run of each, and their locks. */
export class StackCatalog {
  private constructor(
    readonly stacks: readonly ServedStack[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Reads the Stack document of each directory; a directory without one, or two stacks of one name, is refused. */
  static async load(dirs: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<StackCatalog> {
    const stacks = dirs.map((d) => readStack(path.resolve(d)));
    const names = new Map<string, string>();
    for (const s of stacks) {
      const other = names.get(s.name);
      if (other) throw new InvalidInputError(`two served directories hold the stack ${s.name}: ${other} and ${s.dir}`);
      names.set(s.name, s.dir);
    }
    return new StackCatalog(stacks, env);
  }

  get(name: string): ServedStack | undefined {
    return this.stacks.find((s) => s.name === name);
  }

  /** The served stack `name` with `environment`, or an InvalidInputError saying what is served. */
  require(name: string, environment: string): ServedStack {
    const s = this.get(name);
    if (!s)
      throw new InvalidInputError(`no stack ${name} is served here`, [`served: ${this.stacks.map((x) => x.name).join(', ') || 'none'}`]);
    if (!s.environments.includes(environment)) {
      throw new InvalidInputError(`stack ${name} has no environment ${environment}`, [`its environments: ${s.environments.join(', ')}`]);
    }
    return s;
  }

  /** The settings a run of `stack` in `environment` uses, as `deployer -C <dir> -e <environment>` would, never waiting for a lock. */
  settings(stack: ServedStack, environment: string): Settings {
    // A request is answered 409 with the holder at once: a lock timeout would hold it open instead.
    return { ...resolveSettings({ dir: stack.dir, environment, stack: stack.name }, this.env), lockTimeoutMs: 0 };
  }

  /** The lock of every served stack and environment. */
  async locks(now = new Date()): Promise<StackLock[]> {
    const all = this.stacks.flatMap((s) => s.environments.map((e) => ({ s, e })));
    return Promise.all(
      all.map(async ({ s, e }) => {
        const settings = this.settings(s, e);
        const [held] = await openLockManager(settings.lockUrl, settings.dir).list(stackLockKey(s.name, e));
        return {
          stack: s.name,
          environment: e,
          holder: held
            ? { ...held, lockedAt: held.lockedAt.toISOString(), expiresAt: held.expiresAt.toISOString(), expired: isExpired(held, now) }
            : null,
        };
      }),
    );
  }
}

function readStack(dir: string): ServedStack {
  const file = path.join(dir, 'stack.yaml');
  let doc: { kind?: unknown; metadata?: { name?: unknown }; spec?: { environments?: unknown } };
  try {
    doc = yamlLib().parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (e) {
    throw new InvalidInputError(`cannot serve ${dir}: ${file} cannot be read (${(e as Error).message})`);
  }
  const name = doc?.metadata?.name;
  if (doc?.kind !== 'Stack' || typeof name !== 'string') {
    throw new InvalidInputError(`cannot serve ${dir}: ${file} is not a Stack document with metadata.name`);
  }
  const envs = doc.spec?.environments;
  return { name, dir, environments: Array.isArray(envs) ? envs.filter((e): e is string => typeof e === 'string') : [] };
}
