/** The ledger a `deployer ledger` command works on (opened for the command, closed after it), and the records its flags select. */
import { existsSync } from 'node:fs';
import { InvalidInputError } from '../../errors.js';
import {
  DEPLOYMENT_TYPES,
  isoTime,
  isPostgresUrl,
  openLedger,
  redactedUrl,
  type LedgerStore,
  type RollbackFilter,
} from '../../ledger/index.js';

/** Writes through the ledger at `location` (created when missing), closed afterwards. */
export async function write(location: string, work: (store: LedgerStore) => Promise<void>): Promise<void> {
  const store = openLedger(location);
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

/** The ledger as a message names it: a PostgreSQL URL without its password. */
export const shownLedger = (location: string): string => (isPostgresUrl(location) ? redactedUrl(location) : location);

/** What `read` reads from the ledger at `location`, closed afterwards; `empty` when there is no ledger file (nothing is created). */
export async function withLedger<T>(location: string, empty: T, read: (store: LedgerStore) => Promise<T>): Promise<T> {
  if (!isPostgresUrl(location) && !existsSync(location)) return empty;
  const store = openLedger(location);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** The flags that select records, as given. */
export interface ListFlags {
  service?: string;
  from?: string;
  to?: string;
  since?: string;
  format?: string;
  limit?: string;
}

/** The filter the shared flags say, each checked (a bad time or limit names its flag, exit 2). */
export function listFilter(o: ListFlags & { environment?: string }): RollbackFilter {
  const from = o.from ?? o.since;
  const limit = Number(o.limit ?? 0);
  if (!Number.isInteger(limit) || limit < 0) throw new InvalidInputError(`--limit ${o.limit} is not a whole number of 0 or more`);
  return {
    ...(o.service ? { service: o.service } : {}),
    ...(o.environment ? { environment: o.environment } : {}),
    ...(from ? { since: isoTime(o.from ? '--from' : '--since', from) } : {}),
    ...(o.to ? { until: isoTime('--to', o.to) } : {}),
    ...(limit > 0 ? { limit } : {}),
  };
}

/**
 * The deployment types the ledger at `location` knows: the built-in ones, and, when `wanted` is
 * not one of them, the registered ones (read only then, so that a built-in type opens nothing).
 */
export async function knownTypes(location: string, wanted?: string): Promise<string[]> {
  const builtin: string[] = [...DEPLOYMENT_TYPES];
  if (wanted === undefined || builtin.includes(wanted)) return builtin;
  return withLedger(location, builtin, async (store) => (await store.deploymentTypes()).map((t) => t.name));
}
