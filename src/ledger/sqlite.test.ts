/**
 * The SQLite ledger: the LedgerStore contract over a file in a temporary directory, and what is
 * SQLite's own (the file on disk and its directories, reopening it, WAL mode, the machine's
 * faults said so), and openLedger, which opens it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MachineFaultError } from '../errors.js';
import { openLedger, type LedgerStore } from './index.js';
import { deployment, ledgerStoreContract, rollback } from './ledger.contract.js';
import type { DeploymentEvent } from './store.js';
import { sqlLedgerContract } from './sql.contract.js';
import { SqliteLedger } from './sqlite.js';

const dirs: string[] = [];
const open: LedgerStore[] = [];
function ledgerFile(...nested: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deployer-ledger-'));
  dirs.push(dir);
  return path.join(dir, ...nested, 'ledger.db');
}
function newLedger(file = ledgerFile()): LedgerStore {
  const l = openLedger(file);
  open.push(l);
  return l;
}
afterEach(async () => {
  vi.restoreAllMocks();
  for (const l of open.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Its file's directory goes after each test, with the others.
ledgerStoreContract('sqlite', async () => ({ ledger: new SqliteLedger(ledgerFile()) }));
sqlLedgerContract('sqlite', async () => {
  const file = ledgerFile();
  return {
    open: () => new SqliteLedger(file),
    exec: async (sql) => {
      const db = new Database(file);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    setSchemaVersion: async (version) => {
      const db = new Database(file);
      try {
        db.pragma(`user_version = ${version}`);
      } finally {
        db.close();
      }
    },
    cleanup: async () => undefined,
  };
});

/** The error `work` rejects (or throws) with. */
async function failure(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure, but it succeeded');
}

describe('SqliteLedger', () => {
  it('keeps what it recorded across reopening the file', async () => {
    const file = ledgerFile();
    const first = new SqliteLedger(file);
    await first.recordDeployment(deployment('d1'));
    await first.recordRollback(rollback('r1'));
    await first.close();
    const again = newLedger(file);
    expect(await again.listDeployments()).toEqual([deployment('d1')]);
    expect(await again.listRollbacks()).toEqual([rollback('r1')]);
  });

  it('a deployment without a run or a completion (from an untyped caller) is kept, and its history says so', async () => {
    const ledger = newLedger(ledgerFile());
    const { parentId: _run, completed: _end, ...bare } = deployment('p1', { status: 'in-progress' });
    await ledger.recordDeployment(bare as DeploymentEvent);
    expect(await ledger.listDeployments()).toEqual([deployment('p1', { status: 'in-progress', parentId: null, completed: null })]);
    expect(await ledger.verify()).toEqual({ ok: true, rows: 1, problems: [] });
  });

  it('runs in WAL mode, so readers do not block the writer', async () => {
    const file = ledgerFile();
    const ledger = newLedger(file);
    await ledger.recordDeployment(deployment('d1'));
    const other = new Database(file, { readonly: true });
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
      expect((other.prepare('SELECT count(*) AS n FROM deployments').get() as { n: number }).n).toBe(1);
    } finally {
      other.close();
    }
  });

  it('creates the file, and the directories above it', async () => {
    const file = ledgerFile('a', 'b', 'c');
    expect(existsSync(path.dirname(file))).toBe(false);
    await newLedger(file).recordDeployment(deployment('d1'));
    expect(existsSync(file)).toBe(true);
  });

  it('a file it cannot open is the machine, naming the file', async () => {
    const file = ledgerFile();
    mkdirSync(file, { recursive: true });
    const err = await failure(() => new SqliteLedger(file));
    expect(err).toBeInstanceOf(MachineFaultError);
    expect(err).toMatchObject({ systemCode: 'SQLITE_CANTOPEN', path: file });
    expect((err as Error).message).toMatch(/^cannot open the ledger: the database file cannot be opened at /);
  });

  it('a full disk under the ledger rejects the write as the machine, naming the file, and records nothing', async () => {
    const file = ledgerFile();
    const ledger = newLedger(file);
    vi.spyOn(SqliteLedger.prototype as unknown as { write: () => void }, 'write').mockImplementation(() => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    const err = await failure(() => ledger.recordDeployment(deployment('d1')));
    expect(err).toBeInstanceOf(MachineFaultError);
    expect(err).toMatchObject({ systemCode: 'SQLITE_FULL', path: file });
    expect((err as Error).message).toBe(
      `cannot record a deployment in the ledger: no space is left on the device at ${file} (SQLITE_FULL)`,
    );
    vi.restoreAllMocks();
    expect(await ledger.listDeployments()).toEqual([]);
  });

  it('a read-only file system under the ledger rejects the rollback as the machine', async () => {
    const ledger = newLedger();
    vi.spyOn(SqliteLedger.prototype as unknown as { write: () => void }, 'write').mockImplementation(() => {
      throw Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY_DBMOVED' });
    });
    const err = await failure(() => ledger.recordRollback(rollback('r1')));
    expect(err).toBeInstanceOf(MachineFaultError);
    expect((err as MachineFaultError).systemCode).toBe('SQLITE_READONLY');
    expect((err as Error).message).toMatch(/^cannot record a rollback in the ledger: the file system is read-only at /);
  });
});

describe('openLedger', () => {
  it('opens a relative path against the current directory', async () => {
    const file = ledgerFile();
    const ledger = newLedger(path.relative(process.cwd(), file));
    await ledger.recordDeployment(deployment('d1'));
    expect(existsSync(file)).toBe(true);
  });
});
