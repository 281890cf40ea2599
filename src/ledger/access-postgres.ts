/**
 * The AccessStore of the PostgreSQL ledger (postgres.ts): its tables (migration 9) in the
 * ledger's database, queried through the ledger's pool, after its migrations, with its
 * failures said as the ledger says them (a server out of reach, out of disk). Each method is one
 * statement, so each is atomic without a transaction of its own.
 */
import type pg from 'pg';
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
import { dollarPlaceholders } from './sql-steps.js';

/** Runs one statement (`$1, $2 ...` parameters) the way the ledger runs its own: its rows and how many rows it changed. */
export type PostgresAccessQuery = <R extends pg.QueryResultRow>(sql: string, params: unknown[]) => Promise<pg.QueryResult<R>>;

/** AccessStore over the PostgreSQL ledger's `query`. */
export class PostgresAccess implements AccessStore {
  constructor(private readonly query: PostgresAccessQuery) {}

  /** The rows of `sql` written with `?` placeholders. */
  private async run<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    return this.query<R>(dollarPlaceholders(sql), params);
  }

  async createToken(token: ApiToken, secretHash: string): Promise<void> {
    refuseToken(token, secretHash);
    const { rowCount } = await this.run(INSERT_TOKEN, tokenParams(token, secretHash));
    if (rowCount === 0) throw duplicateToken(token.id);
  }

  async tokenByHash(secretHash: string): Promise<ApiToken | undefined> {
    const [row] = (await this.run<ApiToken>(TOKEN_BY_HASH, [secretHash])).rows;
    return row && tokenOf(row);
  }

  async listTokens(): Promise<ApiToken[]> {
    return (await this.run<ApiToken>(LIST_TOKENS, [])).rows.map(tokenOf);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    // One statement: the token's existence is read in the snapshot the update runs in (a revocation removes no row).
    const { rows } = await this.query<{ found: boolean }>(
      `WITH revoked AS (${dollarPlaceholders(REVOKE_TOKEN)} RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $2) AS found`,
      [at, id],
    );
    return rows[0]!.found;
  }

  async appendAudit(entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry> {
    const detail = JSON.stringify(entry.detail);
    const { rows } = await this.run<{ seq: string }>(`${INSERT_AUDIT} RETURNING seq`, auditParams(entry, detail));
    return keptEntry(entry, Number(rows[0]!.seq), detail);
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const { sql, params } = auditQuery(filter);
    return (await this.run<AuditRow>(sql, params)).rows.map(auditOf);
  }

  async claimDelivery(d: WebhookDelivery): Promise<boolean> {
    const { rowCount } = await this.run(CLAIM_DELIVERY, [d.source, d.hookId, d.deliveryId, d.event, d.receivedAt]);
    return rowCount === 1;
  }

  async releaseDelivery(source: string, hookId: string, deliveryId: string): Promise<void> {
    await this.run(RELEASE_DELIVERY, [source, hookId, deliveryId]);
  }
}
