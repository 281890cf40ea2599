/**
 * The generic JSON receiver (`POST /webhooks/<name>`), for CI/CD tools that are not GitHub: a
 * body `{type: 'deployment', ...}` or `{type: 'rollback', ...}` whose fields are those of
 * `deployer ledger record-deployment` / `record-rollback` (camelCase; the deployment's strategy
 * is `deploymentType`, since `type` says what is recorded), checked by the same functions as the
 * CLI (ledger/external.ts). A refusal names the body's field, and nothing is written.
 */
import { InvalidInputError } from '../../errors.js';
import { externalDeployment, externalRollback, type DeploymentFlags, type LedgerStore, type RollbackFlags } from '../../ledger/index.js';
import type { WebhookOutcome } from './outcome.js';
import { isObject, type JsonObject } from './payload.js';

const NOTHING = ['Nothing was recorded.'];

/** The body's fields of a deployment, each with the flag of `record-deployment` it stands for. */
const DEPLOYMENT_FIELDS = {
  service: 'service',
  version: 'version',
  environment: 'environment',
  deploymentType: 'type',
  started: 'started',
  completed: 'completed',
  status: 'status',
  initiator: 'initiator',
  id: 'id',
  stack: 'stack',
} as const satisfies Record<string, keyof DeploymentFlags>;

/** The body's fields of a rollback, each with its flag of `record-rollback`. */
const ROLLBACK_FIELDS = {
  service: 'service',
  environment: 'environment',
  fromVersion: 'fromVersion',
  toVersion: 'toVersion',
  reason: 'reason',
  timestamp: 'timestamp',
  deployment: 'deployment',
  id: 'id',
  stack: 'stack',
} as const satisfies Record<string, keyof RollbackFlags>;

/** The CLI's flags, as the body's fields are named (external.ts's refusals name flags). */
const FIELD_OF_FLAG: Readonly<Record<string, string>> = {
  '--type': 'deploymentType',
  '--canary-percentage': 'canaryPercentage',
  '--from-version': 'fromVersion',
  '--to-version': 'toVersion',
  '--metadata': 'metadata',
};

/** A refusal of external.ts, its flags renamed as the body's fields. */
function asFields(e: unknown): unknown {
  if (!(e instanceof InvalidInputError)) return e;
  const rename = (s: string): string => s.replace(/--[a-z][a-z-]*/g, (flag) => FIELD_OF_FLAG[flag] ?? flag.slice(2));
  return new InvalidInputError(
    rename(e.message),
    e.details.map((d) => (d.startsWith('A type of your own') ? d : rename(d))),
  );
}

/** The string fields of `body` named by `fields`, as flags; a field of another type, or one not known, is refused. */
function flagsOf<F extends string>(
  body: JsonObject,
  fields: Readonly<Record<string, F>>,
  extra: readonly string[],
): Partial<Record<F, string>> {
  const out: Partial<Record<F, string>> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'type' || extra.includes(key)) continue;
    if (!Object.hasOwn(fields, key)) {
      throw new InvalidInputError(`${key} is not a field of a ${String(body['type'])}`, [
        `Its fields: type, ${[...Object.keys(fields), ...extra].join(', ')}.`,
        ...NOTHING,
      ]);
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') throw new InvalidInputError(`${key} is not a string`, NOTHING);
    out[fields[key]!] = value;
  }
  return out;
}

/** `metadata`: an object of plain values (kept as given beside what deployer adds). */
function metadataOf(body: JsonObject): Record<string, unknown> {
  const m = body['metadata'];
  if (m === undefined || m === null) return {};
  if (!isObject(m)) throw new InvalidInputError('metadata is not an object', NOTHING);
  for (const [k, v] of Object.entries(m)) {
    if (v !== null && typeof v === 'object') throw new InvalidInputError(`metadata.${k} is not a string, number or boolean`, NOTHING);
  }
  return m;
}

/** Records what a generic receiver's body says, as receiver `name`. */
export async function processGenericEvent(ledger: LedgerStore, name: string, body: JsonObject): Promise<WebhookOutcome> {
  const type = body['type'];
  if (type === 'deployment') {
    const flags: DeploymentFlags = flagsOf(body, DEPLOYMENT_FIELDS, ['canaryPercentage', 'metadata']);
    const pct = body['canaryPercentage'];
    if (pct !== undefined && pct !== null) {
      if (typeof pct !== 'number' && typeof pct !== 'string') throw new InvalidInputError('canaryPercentage is not a number', NOTHING);
      flags.canaryPercentage = String(pct);
    }
    const metadata = metadataOf(body);
    const types = (await ledger.deploymentTypes()).map((t) => t.name);
    let record;
    try {
      record = externalDeployment(flags, { initiator: `webhook:${name}`, types });
    } catch (e) {
      throw asFields(e);
    }
    await ledger.recordDeployment({ ...record, metadata: { ...metadata, ...record.metadata, webhook: name } });
    return { status: 200, result: 'recorded', deployments: [record.id] };
  }
  if (type === 'rollback') {
    const flags: RollbackFlags = flagsOf(body, ROLLBACK_FIELDS, []);
    let record;
    try {
      record = externalRollback(flags);
    } catch (e) {
      throw asFields(e);
    }
    await ledger.recordRollback(record);
    return { status: 200, result: 'recorded', rollbacks: [record.id] };
  }
  throw new InvalidInputError(`type ${JSON.stringify(type ?? null)} is not deployment or rollback`, NOTHING);
}
