/**
 * The SQLite ledger's AccessStore: the contract and the SQL contract over a file in a temporary
 * directory, and what is SQLite's own: deliveries claimed by processes racing on one file (each
 * claimed once), and the machine's faults said so, naming the file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MachineFaultError } from '../errors.js';
import { accessSqlContract, accessStoreContract, delivery, entry } from './access.contract.js';
import { CLAIM_DELIVERY } from './access-rows.js';
import { SqliteLedger } from './sqlite.js';
import type { LedgerStore } from './store.js';

const dirs: string[] = [];
const open: LedgerStore[] = [];
function ledgerFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-access-'));
  dirs.push(dir);
  return path.join(dir, 'ledger.db');
}
afterEach(async () => {
  vi.restoreAllMocks();
  for (const l of open.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `work` on the file through a connection of its own, as someone with the file could. */
function raw(file: string, work: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    work(db);
  } finally {
    db.close();
  }
}

accessStoreContract('sqlite', async () => {
  const file = ledgerFile();
  return { ledger: new SqliteLedger(file), other: () => new SqliteLedger(file) };
});

accessSqlContract('sqlite', async () => {
  const file = ledgerFile();
  return {
    open: () => new SqliteLedger(file),
    exec: async (sql) => raw(file, (db) => db.exec(sql)),
    setSchemaVersion: async (version) => raw(file, (db) => db.pragma(`user_version = ${version}`)),
    cleanup: async () => undefined,
  };
});

/**
 * A process claiming deliveries d0 ... d<n-1> of the file with the store's own statement, as
 * fast as it can once told to go; it prints the ids it won, as JSON.
 */
const CLAIMER = `
import Database from 'better-sqlite3';
const [file, sql, n] = process.argv.slice(1);
const db = new Database(file);
db.pragma('busy_timeout = 10000');
const claim = db.prepare(sql);
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const won = [];
for (let i = 0; i < Number(n); i++) if (claim.run('github', '42', 'd' + i, 'push', new Date().toISOString()).changes === 1) won.push('d' + i);
db.close();
process.stdout.write(JSON.stringify(won) + '\\n');
`;

/** Starts a claimer; resolves once it is ready, to what it won once told to go. */
async function claimer(file: string, n: number): Promise<{ go: () => void; won: Promise<string[]> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CLAIMER, file, CLAIM_DELIVERY, String(n)], {
    cwd: process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => (d.toString().startsWith('ready') ? resolve() : reject(new Error(d.toString()))));
    child.once('exit', (code) => reject(new Error(`a claimer exited (${code}) before it was ready: ${err}`)));
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    go: () => child.stdin.end('go\n'),
    won: exited.then((code) => {
      if (code !== 0) throw new Error(`a claimer exited ${code}: ${err}`);
      return JSON.parse(out) as string[];
    }),
  };
}

describe('SqliteLedger access', () => {
  it('two processes and this one claiming the same 2000 deliveries at once: each is claimed by exactly one', async () => {
    const file = ledgerFile();
    const ledger = new SqliteLedger(file);
    open.push(ledger);
    const n = 2000;
    const others = [await claimer(file, n), await claimer(file, n)];
    for (const o of others) o.go();
    const mine: string[] = [];
    for (let i = 0; i < n; i++) {
      if (await ledger.access().claimDelivery(delivery(`d${i}`))) mine.push(`d${i}`);
      // Now and then, let the children's output in.
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const all = [mine, ...(await Promise.all(others.map((o) => o.won)))];
    const claimed = all.flat();
    expect(claimed.length).toBe(n);
    expect(new Set(claimed).size).toBe(n);
  });

  it('a full disk under the ledger rejects a write of the access tables as the machine, naming the file', async () => {
    const file = ledgerFile();
    const ledger = new SqliteLedger(file);
    open.push(ledger);
    const access = ledger.access();
    await access.appendAudit(entry());
    vi.spyOn(Database.prototype, 'prepare').mockImplementation(() => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    const err = await access.claimDelivery(delivery('d1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MachineFaultError);
    expect(err).toMatchObject({ systemCode: 'SQLITE_FULL', path: file });
    expect((err as Error).message).toBe(`cannot claim a webhook delivery: no space is left on the device at ${file} (SQLITE_FULL)`);
    await expect(access.listAudit()).rejects.toThrow(/^cannot read the audit log: no space is left/);
    vi.restoreAllMocks();
    expect(await access.claimDelivery(delivery('d1'))).toBe(true);
  });
});
