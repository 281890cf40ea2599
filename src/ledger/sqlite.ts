/**
 * The ledger in SQLite (better-sqlite3, WAL): one file, safe for several readers and a writer,
 * its schema brought up to date on open (migrations.ts).
 * better-sqlite3 is synchronous: each method does its work at once and settles its promise with
 * the result, or rejects with the error (a machine fault, such as a full disk, said so).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MachineFaultError, machineFault } from '../errors.js';
import { noSpaceLeft } from '../util/disk.js';
import { migrateSqlite } from './migrations.js';
import type { DeploymentEvent, DeploymentFilter, LedgerStore, RollbackEvent } from './store.js';

interface DeploymentRow {
  id: string;
  stack: string;
  service: string;
  version: string;
  environment: string;
  type: DeploymentEvent['type'];
  started: string;
  completed: string | null;
  status: DeploymentEvent['status'];
  initiator: string;
  metadata: string;
  parent_id: string | null;
}

/** LedgerStore over one SQLite file, created (with the directories above it) when missing. */
export class SqliteLedger implements LedgerStore {
  private readonly db: Database.Database;

  constructor(private readonly file: string) {
    this.db = this.guard('open the ledger', () => {
      mkdirSync(path.dirname(file), { recursive: true });
      const db = new Database(file);
      try {
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        migrateSqlite(db, file);
      } catch (err) {
        db.close();
        throw err;
      }
      return db;
    });
  }

  /** A full disk or a read-only file system under the ledger is the machine's fault: said so, naming the file. */
  private guard<T>(what: string, work: () => T): T {
    try {
      return work();
    } catch (err) {
      const fault = machineFault(err, `cannot ${what}`, this.file);
      // SQLite reports some writes to a full disk as I/O errors (its shared-memory file, the WAL).
      if (fault?.systemCode === 'SQLITE_IOERR' && noSpaceLeft(path.dirname(this.file)))
        throw new MachineFaultError('ENOSPC', `cannot ${what}`, this.file, err);
      throw fault ?? err;
    }
  }

  async recordDeployment(e: DeploymentEvent): Promise<void> {
    this.guard('record a deployment in the ledger', () => this.writeDeployment(e));
  }

  async recordRollback(e: RollbackEvent): Promise<void> {
    this.guard('record a rollback in the ledger', () => this.writeRollback(e));
  }

  async listDeployments(f: DeploymentFilter = {}): Promise<DeploymentEvent[]> {
    return this.guard('read the ledger', () => this.readDeployments(f));
  }

  async listRollbacks(f: Omit<DeploymentFilter, 'status'> = {}): Promise<RollbackEvent[]> {
    return this.guard('read the ledger', () => this.readRollbacks(f));
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private writeDeployment(e: DeploymentEvent): void {
    this.db
      .prepare(
        `INSERT INTO deployments (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id)
         VALUES (@id, @stack, @service, @version, @environment, @type, @started, @completed, @status, @initiator, @metadata, @parentId)
         ON CONFLICT(id) DO UPDATE SET version=excluded.version, completed=excluded.completed, status=excluded.status, metadata=excluded.metadata`,
      )
      .run({ ...e, metadata: JSON.stringify(e.metadata) });
  }

  private writeRollback(e: RollbackEvent): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO rollbacks (id, stack, service, environment, from_version, to_version, reason, at)
         VALUES (@id, @stack, @service, @environment, @fromVersion, @toVersion, @reason, @at)`,
      )
      .run(e);
  }

  private readDeployments(f: DeploymentFilter): DeploymentEvent[] {
    const { where, params } = conditions(f, 'started');
    if (f.status) {
      where.push('status = @status');
      params['status'] = f.status;
    }
    const rows = this.db
      .prepare(`SELECT * FROM deployments ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY started DESC, id LIMIT @limit`)
      .all({ ...params, limit: f.limit ?? -1 }) as DeploymentRow[];
    return rows.map((r) => ({
      id: r.id,
      stack: r.stack,
      service: r.service,
      version: r.version,
      environment: r.environment,
      type: r.type,
      started: r.started,
      completed: r.completed,
      status: r.status,
      initiator: r.initiator,
      metadata: JSON.parse(r.metadata) as Record<string, unknown>,
      parentId: r.parent_id,
    }));
  }

  private readRollbacks(f: Omit<DeploymentFilter, 'status'>): RollbackEvent[] {
    const { where, params } = conditions(f, 'at');
    const rows = this.db
      .prepare(
        `SELECT id, stack, service, environment, from_version AS fromVersion, to_version AS toVersion, reason, at FROM rollbacks
         ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY at DESC, id LIMIT @limit`,
      )
      .all({ ...params, limit: f.limit ?? -1 }) as RollbackEvent[];
    return rows;
  }
}

function conditions(f: Omit<DeploymentFilter, 'status'>, timeColumn: string): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  for (const key of ['stack', 'service', 'environment'] as const) {
    if (f[key]) {
      where.push(`${key} = @${key}`);
      params[key] = f[key];
    }
  }
  if (f.since) {
    where.push(`${timeColumn} >= @since`);
    params['since'] = f.since;
  }
  return { where, params };
}
