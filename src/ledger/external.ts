/**
 * Events recorded by hand or by other tools (`deployer ledger record-deployment`,
 * `record-rollback`: seed 001's CLI, for teams that deploy with something else): the flags as
 * given, checked and turned into ledger events. Pure; every refusal names its flag.
 */
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES, type DeploymentEvent, type RollbackEvent } from './store.js';

/** The statuses of a deployment that has not ended: it has no completion time. */
export const UNFINISHED: ReadonlySet<string> = new Set(['pending', 'in-progress']);

/** ISO 8601 with a date and a time; a zone (Z or ±hh:mm) is required, so that what is stored is UTC for certain. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** `flag`'s value as a UTC ISO time (milliseconds), or a refusal naming the flag. */
export function isoTime(flag: string, value: string): string {
  const ms = ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InvalidInputError(`${flag} ${JSON.stringify(value)} is not an ISO 8601 time with a zone`, [
      'for example 2026-12-01T14:30:00Z or 2026-12-01T15:30:00+01:00. Nothing was recorded.',
    ]);
  }
  return new Date(ms).toISOString();
}

/** `flag`'s value if it is one of `allowed`, else a refusal naming the flag (with `details` under it). */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[], details = ['Nothing was recorded.']): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError(`${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, details);
  }
  return value as T;
}

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new InvalidInputError(`${flag} is required`, ['Nothing was recorded.']);
  return value;
}

/** `--metadata k=v` pairs (repeatable) as an object; a pair without `=` is refused. */
export function metadataPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new InvalidInputError(`--metadata ${JSON.stringify(pair)} is not key=value`, ['Nothing was recorded.']);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** The flags of `record-deployment`, as given. */
export interface DeploymentFlags {
  service?: string;
  version?: string;
  environment?: string;
  type?: string;
  started?: string;
  completed?: string;
  status?: string;
  canaryPercentage?: string;
  initiator?: string;
  metadata?: string[];
  id?: string;
  stack?: string;
}

/**
 * The deployment `record-deployment`'s flags say. `types` are the types the ledger knows (the
 * built-in ones unless told: the caller reads the registered ones from the ledger).
 */
export function externalDeployment(f: DeploymentFlags, defaults: { initiator: string; types?: readonly string[] }): DeploymentEvent {
  const started = isoTime('--started', required('--started', f.started));
  const completed = f.completed === undefined ? null : isoTime('--completed', f.completed);
  if (completed !== null && completed < started) {
    throw new InvalidInputError(`--completed ${f.completed} is before --started ${f.started}`, ['Nothing was recorded.']);
  }
  const status = oneOf('--status', required('--status', f.status), DEPLOYMENT_STATUSES);
  if (!UNFINISHED.has(status) && completed === null) {
    throw new InvalidInputError(`--completed is required for a deployment whose status is ${status}`, ['Nothing was recorded.']);
  }
  const metadata: Record<string, unknown> = { ...metadataPairs(f.metadata ?? []), source: 'external' };
  if (f.canaryPercentage !== undefined) {
    const pct = Number(f.canaryPercentage);
    if (!Number.isFinite(pct) || pct < 0 || pct > 100)
      throw new InvalidInputError(`--canary-percentage ${f.canaryPercentage} is not a number from 0 to 100`, ['Nothing was recorded.']);
    metadata['canary_percentage'] = pct;
  }
  return {
    id: f.id ?? randomUUID(),
    stack: f.stack ?? '',
    service: required('--service', f.service),
    version: required('--version', f.version),
    environment: required('--environment', f.environment),
    type: oneOf('--type', required('--type', f.type), defaults.types ?? DEPLOYMENT_TYPES, [
      'A type of your own is registered first: deployer ledger register-type <name> --description <text>. Nothing was recorded.',
    ]),
    started,
    completed,
    status,
    initiator: f.initiator ?? defaults.initiator,
    metadata,
    parentId: null,
  };
}

/** The flags of `record-rollback`, as given. */
export interface RollbackFlags {
  service?: string;
  environment?: string;
  fromVersion?: string;
  toVersion?: string;
  reason?: string;
  timestamp?: string;
  /** The deployment it undid. */
  deployment?: string;
  id?: string;
  stack?: string;
}

export function externalRollback(f: RollbackFlags): RollbackEvent {
  return {
    id: f.id ?? randomUUID(),
    stack: f.stack ?? '',
    service: required('--service', f.service),
    environment: required('--environment', f.environment),
    fromVersion: required('--from-version', f.fromVersion),
    toVersion: required('--to-version', f.toVersion),
    reason: required('--reason', f.reason),
    at: isoTime('--timestamp', required('--timestamp', f.timestamp)),
    ...(f.deployment ? { deploymentId: f.deployment } : {}),
  };
}
