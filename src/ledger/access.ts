/**
 * The AccessStore interface: what `deployer serve` keeps beside the ledger, in the same database
 * (so a team's one PostgreSQL ledger also holds its server's tokens and audit log):
 * - API tokens, stored by the sha256 of their secret, never the secret itself;
 * - the audit log, one row per action (who, what, when, from where, result), append-only:
 *   nothing updates or deletes a row (the database refuses it, not only this code);
 * - the webhook deliveries already received, claimed by a unique key so that two identical
 *   deliveries arriving together record once.
 * Each LedgerStore gives its own (`LedgerStore.access()`); access.contract.ts says what each must do.
 */

/** What a token or a JWT may do (the server's role matrix, server/roles.ts, says what each allows). */
export type Role = 'viewer' | 'deployer' | 'admin' | 'auditor';
export const ROLES: readonly Role[] = ['viewer', 'deployer', 'admin', 'auditor'];

/** An API token as listed: everything but its secret (which is shown once, when created, and kept only as a hash). */
export interface ApiToken {
  /** Short public id (`tok_...`), printed, used to revoke it. */
  id: string;
  /** What the token is for, as its creator named it. */
  name: string;
  role: Role;
  createdAt: string;
  /** Who created it (`user@host`, or the admin's token id / JWT subject). */
  createdBy: string;
  /** ISO time after which it is refused; null: it does not expire. */
  expiresAt: string | null;
  /** ISO time it was revoked; null while valid. */
  revokedAt: string | null;
}

/** One action, as the audit log keeps it. */
export interface AuditEntry {
  /** Position in the log, 1, 2, 3 ... assigned by the store. */
  seq: number;
  at: string;
  /** Who: a token id (`tok_...`), a JWT subject (`jwt:<sub>`), `anonymous`, or `webhook:<source>`. */
  actor: string;
  /** The role the actor acted with (null when not authenticated). */
  role: Role | null;
  /** What, e.g. `deploy`, `rollback`, `force-unlock`, `token-create`, `auth-failed`, `webhook`. */
  action: string;
  /** On what: `stack/env`, a deployment id, a lock key, a token id ... ('' when nothing in particular). */
  target: string;
  /** From where: the client's address. */
  source: string;
  /** The result: `ok`, `denied` (authenticated but not allowed), `unauthenticated`, `failed`, `conflict`, `invalid`. */
  result: string;
  /** The HTTP status answered. */
  status: number;
  /** Anything else worth keeping (a run id, the error's code), never a secret or a token. */
  detail: Record<string, unknown>;
}

/** Which audit entries to list, newest first. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  /** ISO time: entries at or after it. */
  since?: string;
  /** ISO time: entries at or before it. */
  until?: string;
  /** At most this many (default 100). */
  limit?: number;
}

/** One webhook delivery, identified by (source, hookId, deliveryId). */
export interface WebhookDelivery {
  /** `github`, or the name of a generic receiver. */
  source: string;
  /** The hook's id (GitHub's `X-GitHub-Hook-ID`; '' when the sender gives none). */
  hookId: string;
  /** The delivery's id (GitHub's `X-GitHub-Delivery`). */
  deliveryId: string;
  /** The event it carried (`push`, `deployment` ...). */
  event: string;
  receivedAt: string;
}

/**
 * Tokens, the audit log and webhook deliveries. Asynchronous; a failure rejects (a machine
 * refusing as a MachineFaultError naming where, as the ledger does).
 */
export interface AccessStore {
  /** Keeps a new token under the sha256 (hex) of its secret; an id or hash already kept is refused (InvalidInputError). */
  createToken(token: ApiToken, secretHash: string): Promise<void>;
  /** The token whose secret hashes to `secretHash`, revoked or expired ones included (the caller decides); undefined if none. */
  tokenByHash(secretHash: string): Promise<ApiToken | undefined>;
  /** Every token, newest first. */
  listTokens(): Promise<ApiToken[]>;
  /** Marks the token revoked at `at`; false if there is no such token (revoking twice keeps the first time, and answers true). */
  revokeToken(id: string, at: string): Promise<boolean>;
  /** Appends an entry (its `seq` is assigned); returns the entry as kept. */
  appendAudit(entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry>;
  /** The entries `filter` selects, newest first. */
  listAudit(filter?: AuditFilter): Promise<AuditEntry[]>;
  /**
   * Claims a delivery: true if it was not received before (it is now kept), false if it was.
   * Atomic: of any number of concurrent claims of one (source, hookId, deliveryId), from any
   * process, exactly one gets true (a unique key, never a check then an insert).
   */
  claimDelivery(delivery: WebhookDelivery): Promise<boolean>;
  /** Forgets a claimed delivery whose processing failed, so that the sender's retry is processed. */
  releaseDelivery(source: string, hookId: string, deliveryId: string): Promise<void>;
}
