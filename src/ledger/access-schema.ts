/**
 * Migration 9: the tables of the AccessStore (access.ts) in both dialects: API tokens by the
 * hash of their secret, the audit log, and the webhook deliveries already received.
 * The audit log is append-only in the database itself (triggers refuse an UPDATE or a DELETE,
 * and in PostgreSQL a TRUNCATE), so that a bug, or someone with the database's password and
 * this code, cannot rewrite what the server recorded.
 * Every statement may find its object there already (IF NOT EXISTS, a trigger dropped and made
 * again): a ledger set back to an earlier schema version, as sql.contract.ts does, migrates again.
 */
import { ROLES } from './access.js';
import { collation, type Dialect } from './sql-steps.js';

/** The message both databases refuse a change of the audit log with. */
export const AUDIT_APPEND_ONLY = 'audit_log is append-only';

const ROLE_LIST = ROLES.map((r) => `'${r}'`).join(',');

/**
 * The three tables in `dialect` (each compared or sorted text column with its `collation`);
 * `seq` is the audit log's key. The audit log's role has no CHECK: the log must never refuse to record an action.
 */
function tables(dialect: Dialect, seq: string): string {
  const c = collation(dialect);
  return `
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT${c} PRIMARY KEY,
  secret_hash TEXT${c} NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN (${ROLE_LIST})),
  created_at TEXT${c} NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
  seq ${seq},
  at TEXT${c} NOT NULL,
  actor TEXT${c} NOT NULL,
  role TEXT,
  action TEXT${c} NOT NULL,
  target TEXT NOT NULL,
  source TEXT NOT NULL,
  result TEXT NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_by_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_by_actor ON audit_log (actor, at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  source TEXT${c} NOT NULL,
  hook_id TEXT${c} NOT NULL,
  delivery_id TEXT${c} NOT NULL,
  event TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (source, hook_id, delivery_id)
);
`;
}

/** SQLite: AUTOINCREMENT, so that a seq is never given twice (not even the last one's, after a failed append). */
export const ACCESS_SQLITE = `${tables('sqlite', 'INTEGER PRIMARY KEY AUTOINCREMENT')}
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '${AUDIT_APPEND_ONLY}'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, '${AUDIT_APPEND_ONLY}'); END;
`;

/**
 * PostgreSQL: an identity the store cannot set (ALWAYS), and one trigger function for an
 * UPDATE or DELETE of a row and for a TRUNCATE (which fires no row trigger).
 */
export const ACCESS_POSTGRES = `${tables('postgres', 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY')}
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${AUDIT_APPEND_ONLY}';
END
$$;
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`;
