/**
 * Settings of a run, from (highest first) command-line flags, DEPLOYER_* environment variables,
 * `deployer.config.yaml` in the stack directory, and defaults.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { stripBom } from '../util/text.js';
import { yamlLib } from '../util/yaml-lib.js';

export { parseDuration };

export interface Settings {
  /** Absolute stack directory: its configuration, and the data kept beside it (`.deployer/`). */
  dir: string;
  /**
   * Where the stack's YAML is read from instead of `dir`: a checkout of a git ref (`deployer
   * serve`'s deploy of a ref). State, locks, the ledger and settings stay those of `dir`.
   */
  sourceDir?: string;
  environment: string | undefined;
  /** `--stack`: the stack the user means; loading a directory that holds another one is refused. */
  stack: string | undefined;
  stateUrl: string;
  lockUrl: string;
  concurrency: number;
  /** `graph`: a component starts when its dependencies are done; `waves`: barrier layers. */
  scheduling: 'graph' | 'waves';
  lockTtlMs: number;
  lockTimeoutMs: number;
  failFast: boolean;
  /** SQLite file or postgres:// URL. */
  ledger: string;
  /** The audit trail: a file appended to, `-` for standard output; absent: none (docs/audit.md). */
  auditLog?: string;
  /** One region of a Stack that lists regions (`--region`); absent: all of them. */
  region?: string;
  /** `--var name=value` (over `--var-file` files, over the Stack's variables). */
  variables: Record<string, string | number | boolean>;
  varFiles: string[];
}

/** Flags as the CLI parsed them (all optional). */
export interface SettingFlags {
  dir?: string;
  environment?: string;
  stack?: string;
  stateUrl?: string;
  lockUrl?: string;
  concurrency?: string | number;
  strategy?: string;
  lockTtl?: string;
  lockTimeout?: string;
  failFast?: boolean;
  ledger?: string;
  auditLog?: string;
  region?: string;
  var?: string[];
  varFile?: string[];
}

export const DEFAULTS = {
  stateUrl: 'file://.deployer',
  lockUrl: 'file://.deployer',
  concurrency: 256,
  lockTtl: '1h',
  lockTimeout: '0s',
};

const CONFIG_FILE = 'deployer.config.yaml';

/**
 * The shortest lease a run may hold. A lease is renewed every third of its TTL; below this, a
 * slow request or a busy event loop lets it expire under a live run, and another host whose
 * clock is a few seconds ahead would take it over while the first run is still deploying.
 */
export const MIN_LOCK_TTL_MS = 10_000;

function parseLockTtl(text: string): number {
  const ms = parseDuration(text, 'lock TTL');
  if (ms < MIN_LOCK_TTL_MS) {
    throw new InvalidInputError(`invalid lock TTL "${text}": it must be at least ${MIN_LOCK_TTL_MS / 1000}s`, [
      'The lease is renewed every third of its TTL; a shorter one could expire while the run is still deploying, letting a second run in.',
    ]);
  }
  return ms;
}

function parseConcurrency(v: string | number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`invalid --concurrency "${v}": use a whole number of 1 or more`);
  return n;
}

function parseScheduling(v: string): 'graph' | 'waves' {
  if (v !== 'graph' && v !== 'waves')
    throw new InvalidInputError(
      `invalid --strategy "${v}": use graph (start each component as soon as what it needs is done) or waves (barrier layers)`,
    );
  return v;
}

function readConfigFile(dir: string): Record<string, unknown> {
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  let data: unknown;
  try {
    // Without a leading byte-order mark: `yaml` would count it as a column, and misread a list after it.
    // As the stack's documents are read: a byte-order mark dropped, merge keys resolved.
    data = yamlLib().parse(stripBom(text), { merge: true });
  } catch (err) {
    throw new InvalidInputError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new InvalidInputError(`${file}: expected a mapping of settings`);
  return data as Record<string, unknown>;
}

export function resolveSettings(flags: SettingFlags, env: NodeJS.ProcessEnv = process.env): Settings {
  const dir = path.resolve(flags.dir ?? env['DEPLOYER_DIR'] ?? '.');
  const file = readConfigFile(dir);
  /** An environment variable, an empty one counting as unset. */
  const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const pick = (flag: string | number | undefined, envName: string, fileKey: string, fallback: string | number): string | number => {
    if (flag !== undefined) return flag;
    const e = fromEnv(envName);
    if (e !== undefined) return e;
    const f = file[fileKey];
    if (typeof f === 'string' || typeof f === 'number') return f;
    return fallback;
  };
  return {
    dir,
    environment:
      flags.environment ?? fromEnv('DEPLOYER_ENVIRONMENT') ?? (typeof file['environment'] === 'string' ? file['environment'] : undefined),
    // A flag only: hooks export DEPLOYER_STACK (the stack they run in) to the commands they start.
    stack: flags.stack,
    stateUrl: String(pick(flags.stateUrl, 'DEPLOYER_STATE_URL', 'stateUrl', DEFAULTS.stateUrl)),
    lockUrl: String(pick(flags.lockUrl, 'DEPLOYER_LOCK_URL', 'lockUrl', DEFAULTS.lockUrl)),
    concurrency: parseConcurrency(pick(flags.concurrency, 'DEPLOYER_CONCURRENCY', 'concurrency', DEFAULTS.concurrency)),
    scheduling: parseScheduling(String(pick(flags.strategy, 'DEPLOYER_STRATEGY', 'strategy', 'graph'))),
    lockTtlMs: parseLockTtl(String(pick(flags.lockTtl, 'DEPLOYER_LOCK_TTL', 'lockTtl', DEFAULTS.lockTtl))),
    lockTimeoutMs: parseDuration(
      String(pick(flags.lockTimeout, 'DEPLOYER_LOCK_TIMEOUT', 'lockTimeout', DEFAULTS.lockTimeout)),
      'lock timeout',
    ),
    failFast:
      flags.failFast ?? (fromEnv('DEPLOYER_FAIL_FAST') !== undefined ? env['DEPLOYER_FAIL_FAST'] === 'true' : file['failFast'] === true),
    ledger: String(pick(flags.ledger, 'DEPLOY_LEDGER_DB', 'ledger', path.join(dir, '.deployer', 'ledger.db'))),
    ...auditLogOf(flags.auditLog ?? fromEnv('DEPLOYER_AUDIT_LOG'), file['auditLog'], dir),
    ...((flags.region ?? fromEnv('DEPLOYER_REGION')) ? { region: (flags.region ?? fromEnv('DEPLOYER_REGION'))! } : {}),
    variables: parseVars(flags.var ?? []),
    // Paths on the command line are relative to where the command runs.
    varFiles: (flags.varFile ?? []).map((f) => path.resolve(f)),
  };
}

/** The audit trail's place: a flag or the environment relative to where the command runs, the config file's to the stack directory. */
function auditLogOf(given: string | undefined, inFile: unknown, dir: string): { auditLog?: string } {
  if (given !== undefined) return { auditLog: given === '-' ? '-' : path.resolve(given) };
  if (typeof inFile === 'string' && inFile !== '') return { auditLog: inFile === '-' ? '-' : path.resolve(dir, inFile) };
  return {};
}

/** `--var name=value` entries; numbers and booleans keep their type. */
export function parseVars(entries: string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const e of entries) {
    const at = e.indexOf('=');
    if (at <= 0) throw new InvalidInputError(`invalid --var ${e}: expected name=value`);
    const raw = e.slice(at + 1);
    out[e.slice(0, at)] =
      raw === 'true' ? true : raw === 'false' ? false : raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}
