/**
 * The AccessStore of the SQLite ledger (sqlite.ts): its tables (migration 9) in the ledger's
 * own file, on the ledger's connection. The ledger lends it how it reads (a machine's fault
 * said so, naming the file) and how it writes (a transaction taken at once, tried again while
 * another process holds the file): the same handling as the ledger's own records.
 */
import type Database from 'better-sqlite3';
import type { AccessStore, ApiToken, AuditEntry, AuditFilter, WebhookDelivery } from './access.js';
import {
  auditOf,
  auditParams,
  auditQuery,
  CLAIM_DELIVERY,
  duplicateToken,
  INSERT_AUDIT,
  INSERT_TOKEN,
  keptEntry,
  LIST_TOKENS,
  refuseToken,
  RELEASE_DELIVERY,
  REVOKE_TOKEN,
  TOKEN_BY_HASH,
  tokenOf,
  tokenParams,
  type AuditRow,
} from './access-rows.js';

/** How the ledger reads and writes its file: `what` names the work in the error of a failure. */
export interface SqliteAccessRunner {
  read<T>(what: string, work: () => T): T;
  /** `work` in a write transaction, waiting for other writers of the file as the ledger's writes do. */
  write<T>(what: string, work: () => T): T;
}

/** AccessStore over the SQLite ledger's connection `db`. */
export class SqliteAccess implements AccessStore {
  /** Statements prepared once: a webhook delivery is a claim and an audit row, thousands a second. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly run: SqliteAccessRunner,
  ) {}

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  async createToken(token: ApiToken, secretHash: string): Promise<void> {
    refuseToken(token, secretHash);
    const added = this.run.write('keep a token', () => this.prepare(INSERT_TOKEN).run(...tokenParams(token, secretHash)).changes);
    if (added === 0) throw duplicateToken(token.id);
  }

  async tokenByHash(secretHash: string): Promise<ApiToken | undefined> {
    const row = this.run.read('read the tokens', () => this.prepare(TOKEN_BY_HASH).get(secretHash) as ApiToken | undefined);
    return row && tokenOf(row);
  }

  async listTokens(): Promise<ApiToken[]> {
    return this.run.read('read the tokens', () => (this.prepare(LIST_TOKENS).all() as ApiToken[]).map(tokenOf));
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    // One transaction: the token cannot go between the update and the look for it.
    return this.run.write('revoke a token', () => {
      if (this.prepare(REVOKE_TOKEN).run(at, id).changes > 0) return true;
      return this.prepare('SELECT 1 FROM api_tokens WHERE id = ?').get(id) !== undefined;
    });
  }

  async appendAudit(entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry> {
    const detail = JSON.stringify(entry.detail);
    const seq = this.run.write(
      'append to the audit log',
      () => this.prepare(INSERT_AUDIT).run(...auditParams(entry, detail)).lastInsertRowid,
    );
    return keptEntry(entry, Number(seq), detail);
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const { sql, params } = auditQuery(filter);
    return this.run.read('read the audit log', () => (this.prepare(sql).all(...params) as AuditRow[]).map(auditOf));
  }

  async claimDelivery(d: WebhookDelivery): Promise<boolean> {
    const params = [d.source, d.hookId, d.deliveryId, d.event, d.receivedAt];
    return this.run.write('claim a webhook delivery', () => this.prepare(CLAIM_DELIVERY).run(...params).changes === 1);
  }

  async releaseDelivery(source: string, hookId: string, deliveryId: string): Promise<void> {
    this.run.write('release a webhook delivery', () => this.prepare(RELEASE_DELIVERY).run(source, hookId, deliveryId));
  }
}
