/**
 * The AccessStore of the memory ledger (memory.ts), for tests of the server: the same contract
 * as the SQL ones (access.contract.ts), the same refusals of what their schema refuses. What it
 * keeps is part of the ledger's records, so handles that share records share these too.
 * One process, one thread: each method does its work at once, so a claim is atomic as is.
 */
import type { AccessStore, ApiToken, AuditEntry, AuditFilter, WebhookDelivery } from './access.js';
import { auditLimit, duplicateToken, keptEntry, refuseToken, tokenOf } from './access-rows.js';

/** What a memory AccessStore keeps. */
export interface MemoryAccessRecords {
  /** Tokens by id, each with the hash it is kept under. */
  tokens: Map<string, { token: ApiToken; secretHash: string }>;
  /** The audit log, in the order appended (an entry's seq is its position, from 1). */
  audit: AuditEntry[];
  /** Deliveries claimed, by source, hook id and delivery id. */
  deliveries: Map<string, WebhookDelivery>;
}

/** Nothing kept yet. */
export function emptyAccessRecords(): MemoryAccessRecords {
  return { tokens: new Map(), audit: [], deliveries: new Map() };
}

/** A copy through JSON, as the SQL stores keep a detail (so nothing handed out or in is shared). */
const viaJson = (detail: Record<string, unknown>): string => JSON.stringify(detail);

/** AccessStore over `records`; `open` refuses once the ledger it belongs to is closed. */
export class MemoryAccess implements AccessStore {
  constructor(
    private readonly records: MemoryAccessRecords,
    private readonly open: () => void,
  ) {}

  async createToken(token: ApiToken, secretHash: string): Promise<void> {
    this.open();
    refuseToken(token, secretHash);
    const kept = [...this.records.tokens.values()];
    // As the SQL stores' primary key and unique hash.
    if (this.records.tokens.has(token.id) || kept.some((t) => t.secretHash === secretHash)) throw duplicateToken(token.id);
    this.records.tokens.set(token.id, { token: tokenOf(token), secretHash });
  }

  async tokenByHash(secretHash: string): Promise<ApiToken | undefined> {
    this.open();
    const kept = [...this.records.tokens.values()].find((t) => t.secretHash === secretHash);
    return kept && tokenOf(kept.token);
  }

  async listTokens(): Promise<ApiToken[]> {
    this.open();
    const newestFirst = (a: ApiToken, b: ApiToken): number =>
      a.createdAt !== b.createdAt ? (a.createdAt > b.createdAt ? -1 : 1) : a.id < b.id ? -1 : 1;
    return [...this.records.tokens.values()].map((t) => tokenOf(t.token)).sort(newestFirst);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    this.open();
    const kept = this.records.tokens.get(id);
    if (kept && kept.token.revokedAt === null) kept.token.revokedAt = at;
    return kept !== undefined;
  }

  async appendAudit(entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry> {
    this.open();
    const kept = keptEntry(entry, this.records.audit.length + 1, viaJson(entry.detail));
    this.records.audit.push(kept);
    return keptEntry(kept, kept.seq, viaJson(kept.detail));
  }

  async listAudit(f: AuditFilter = {}): Promise<AuditEntry[]> {
    this.open();
    const limit = auditLimit(f);
    const selected = this.records.audit.filter(
      (e) =>
        (f.actor === undefined || e.actor === f.actor) &&
        (f.action === undefined || e.action === f.action) &&
        (f.since === undefined || e.at >= f.since) &&
        (f.until === undefined || e.at <= f.until),
    );
    // Newest first by time, then the later appended first, as the SQL stores order them.
    const newestFirst = (a: AuditEntry, b: AuditEntry): number => (a.at !== b.at ? (a.at > b.at ? -1 : 1) : b.seq - a.seq);
    return selected
      .sort(newestFirst)
      .slice(0, limit)
      .map((e) => keptEntry(e, e.seq, viaJson(e.detail)));
  }

  async claimDelivery(d: WebhookDelivery): Promise<boolean> {
    this.open();
    const key = deliveryKey(d.source, d.hookId, d.deliveryId);
    if (this.records.deliveries.has(key)) return false;
    this.records.deliveries.set(key, { ...d });
    return true;
  }

  async releaseDelivery(source: string, hookId: string, deliveryId: string): Promise<void> {
    this.open();
    this.records.deliveries.delete(deliveryKey(source, hookId, deliveryId));
  }
}

/** One key of the three parts, unambiguous whatever they hold. */
function deliveryKey(source: string, hookId: string, deliveryId: string): string {
  return JSON.stringify([source, hookId, deliveryId]);
}
