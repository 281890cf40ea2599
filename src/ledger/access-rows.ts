/**
 * What the three AccessStores (access-sqlite.ts, access-postgres.ts, access-memory.ts) share:
 * the refusals each makes alike (access.contract.ts), the SQL of the two SQL ones (written once
 * with `?` placeholders; the PostgreSQL one numbers them), and their rows read back as the
 * interface's objects.
 */
import { InvalidInputError } from '../errors.js';
import { ROLES, type ApiToken, type AuditEntry, type AuditFilter, type Role } from './access.js';

/** How many entries `listAudit` lists when the filter says no limit. */
export const DEFAULT_AUDIT_LIMIT = 100;

/** What a token is kept under: the sha256 of its secret as `digest('hex')` writes it. */
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Refuses a token the stores must not keep: one kept under anything but a sha256 (hex), which
 * could be its secret passed by mistake (the message never shows it), or one of no known role.
 */
export function refuseToken(token: ApiToken, secretHash: string): void {
  if (!SHA256_HEX.test(secretHash))
    throw new InvalidInputError(`token ${token.id} was not kept: it must be kept under the sha256 (64 hex digits) of its secret`, [
      'A token is kept by the hash of its secret, never the secret itself. Nothing was stored.',
    ]);
  if (!(ROLES as readonly string[]).includes(token.role))
    throw new InvalidInputError(`token ${token.id} was not kept: ${JSON.stringify(token.role)} is not a role`, [
      `The roles are ${ROLES.join(', ')}. Nothing was stored.`,
    ]);
}

/** The refusal of a token whose id or secret hash is kept already. */
export function duplicateToken(id: string): InvalidInputError {
  return new InvalidInputError(`token ${id} was not kept: a token with its id or its secret is kept already`, [
    'Create it again with a new id and secret. Nothing was stored.',
  ]);
}

/** The limit of a listing of the audit log: a count (0 or more), DEFAULT_AUDIT_LIMIT when not given. */
export function auditLimit(f: AuditFilter): number {
  const limit = f.limit ?? DEFAULT_AUDIT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new InvalidInputError(`the audit log's limit ${limit} is not a count`, ['Give a whole number, 0 or more.']);
  return limit;
}

/** The columns of `api_tokens` but its hash, named as ApiToken's fields (quoted: PostgreSQL folds unquoted names to lower case). */
const TOKEN_COLUMNS = `id, name, role, created_at AS "createdAt", created_by AS "createdBy", expires_at AS "expiresAt", revoked_at AS "revokedAt"`;

/** Keeps a token unless its id or hash is kept already (then changes no row: the caller refuses it). */
export const INSERT_TOKEN = `INSERT INTO api_tokens (id, secret_hash, name, role, created_at, created_by, expires_at, revoked_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;

/** The parameters of INSERT_TOKEN. */
export function tokenParams(t: ApiToken, secretHash: string): unknown[] {
  return [t.id, secretHash, t.name, t.role, t.createdAt, t.createdBy, t.expiresAt, t.revokedAt];
}

/** The token kept under a hash, revoked or expired ones included. */
export const TOKEN_BY_HASH = `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ?`;
/** Newest first; tokens created at the same time by id, as the ledger lists its records. */
export const LIST_TOKENS = `SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id`;
/** Revokes a token not revoked yet: the first revocation's time is kept. */
export const REVOKE_TOKEN = 'UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL';

/** An api_tokens row as the token it is (a copy of each field, with nothing of the row but them). */
export function tokenOf(r: ApiToken): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    expiresAt: r.expiresAt ?? null,
    revokedAt: r.revokedAt ?? null,
  };
}

/** Appends an entry; its seq is assigned by the database. */
export const INSERT_AUDIT = `INSERT INTO audit_log (at, actor, role, action, target, source, result, status, detail)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The parameters of INSERT_AUDIT, with the detail as it is kept (JSON text). */
export function auditParams(e: Omit<AuditEntry, 'seq'>, detail: string): unknown[] {
  return [e.at, e.actor, e.role, e.action, e.target, e.source, e.result, e.status, detail];
}

/** The entry as kept: its fields (a copy), its seq, its detail as read back from what was stored. */
export function keptEntry(e: Omit<AuditEntry, 'seq'>, seq: number, detail: string): AuditEntry {
  return auditOf({ ...e, seq, detail });
}

/** A row of `audit_log`: PostgreSQL hands a BIGINT seq out as text, both the detail as JSON text. */
export interface AuditRow {
  seq: number | string;
  at: string;
  actor: string;
  role: Role | null;
  action: string;
  target: string;
  source: string;
  result: string;
  status: number;
  detail: string;
}

/** An audit_log row as its entry. */
export function auditOf(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    role: r.role,
    action: r.action,
    target: r.target,
    source: r.source,
    result: r.result,
    status: r.status,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}

/**
 * The SELECT of the entries `f` selects, newest first (by `at`, then the later appended first:
 * two servers' clocks need not agree with the order their entries were appended in).
 */
export function auditQuery(f: AuditFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const terms: Array<[string | undefined, string]> = [
    [f.actor, 'actor = ?'],
    [f.action, 'action = ?'],
    [f.since, 'at >= ?'],
    [f.until, 'at <= ?'],
  ];
  for (const [value, term] of terms) {
    if (value === undefined) continue;
    where.push(term);
    params.push(value);
  }
  params.push(auditLimit(f));
  return {
    sql: `SELECT seq, at, actor, role, action, target, source, result, status, detail FROM audit_log
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, seq DESC LIMIT ?`,
    params,
  };
}

/** Keeps a delivery unless it is kept already: the unique key decides, so of concurrent claims one changes a row. */
export const CLAIM_DELIVERY = `INSERT INTO webhook_deliveries (source, hook_id, delivery_id, event, received_at)
  VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
/** Forgets a claimed delivery (none claimed: changes nothing). */
export const RELEASE_DELIVERY = 'DELETE FROM webhook_deliveries WHERE source = ? AND hook_id = ? AND delivery_id = ?';
