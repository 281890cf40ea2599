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
import { InvalidInputError, MachineFaultError } from '../errors.js';
import { openLedger, type LedgerStore } from './index.js';
import { deployment, ledgerStoreContract, rollback } from './ledger.contract.js';
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
    vi.spyOn(SqliteLedger.prototype as unknown as { writeDeployment: () => void }, 'writeDeployment').mockImplementation(() => {
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
    vi.spyOn(SqliteLedger.prototype as unknown as { writeRollback: () => void }, 'writeRollback').mockImplementation(() => {
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

  it.each(['postgres://user@db/ledger', 'postgresql://db:5432/ledger'])('refuses %s: PostgreSQL is not available yet', async (url) => {
    const err = await failure(() => openLedger(url));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toContain('PostgreSQL');
    expect((err as InvalidInputError).details.join('\n')).toContain('DEPLOY_LEDGER_DB');
  });

  describe("verify: what was done to the file behind the ledger's back is found and named", () => {
    /** A ledger with four rows (d1 twice, r1, d2); `tamper` then works on the file with plain SQL. */
    async function tampered(tamper: (db: Database.Database) => void) {
      const file = ledgerFile();
      const l = new SqliteLedger(file);
      await l.recordDeployment(deployment('d1', { status: 'in-progress', completed: null }));
      await l.recordRollback(rollback('r1'));
      await l.recordDeployment(deployment('d1'));
      await l.recordDeployment(deployment('d2'));
      await l.close();
      const db = new Database(file);
      tamper(db);
      db.close();
      return newLedger(file).verify();
    }
    const messages = (v: { problems: Array<{ message: string }> }): string[] => v.problems.map((p) => p.message);

    it('an intact ledger verifies', async () => {
      expect(await tampered(() => undefined)).toEqual({ ok: true, rows: 4, problems: [] });
    });

    it('a row of the history edited', async () => {
      const v = await tampered((db) =>
        db.prepare(`UPDATE ledger_rows SET body = replace(body, '"api"', '"payments"') WHERE seq = 2`).run(),
      );
      expect(v.ok).toBe(false);
      expect(messages(v)).toContainEqual('row 2 (rollback r1, revision 1) was changed after it was written');
    });

    it('a row of the history removed, in the middle or at the end', async () => {
      const middle = await tampered((db) => db.prepare('DELETE FROM ledger_rows WHERE seq = 2').run());
      expect(messages(middle)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^row 2 is missing: the row after row 1 is numbered 3 \(deployment d1\)/)]),
      );
      const end = await tampered((db) => db.prepare('DELETE FROM ledger_rows WHERE seq = 4').run());
      expect(messages(end)).toEqual(expect.arrayContaining([expect.stringMatching(/the history ends at row 3, but 4 rows were written/)]));
    });

    it('a current record edited, removed or added without its history', async () => {
      const edited = await tampered((db) => db.prepare(`UPDATE deployments SET status = 'failed' WHERE id = 'd1'`).run());
      expect(messages(edited)).toEqual(['deployment d1 no longer says what its last write (row 3) recorded: it was changed']);
      const removed = await tampered((db) => db.prepare(`DELETE FROM rollbacks WHERE id = 'r1'`).run());
      expect(messages(removed)).toEqual(['rollback r1 is in the history (row 2) but no longer in the ledger: it was removed']);
      const added = await tampered((db) =>
        db
          .prepare(
            `INSERT INTO rollbacks (id, stack, service, environment, from_version, to_version, reason, at) VALUES ('r 9', 's', 'x', 'e', 'a', 'b', 'c', 'd')`,
          )
          .run(),
      );
      expect(messages(added)).toEqual([
        "rollback r 9 is in the ledger but in no row of its history: it was added behind the ledger's back",
      ]);
    });
  });
});
