/**
 * The audit trail (seed 002 "Audit Compliance"): one JSON object per line for every deployment
 * action, with the seed's fields and the run's correlation id, appended to a file (or written
 * to standard output). What goes in is ids, statuses, durations and one-line summaries, never
 * a spec, an output value or a secret. docs/audit.md maps the records to what an auditor asks.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** What a record says happened. */
export type AuditEventType =
  | 'plan'
  | 'apply'
  | 'destroy'
  | 'build'
  | 'gate'
  | 'deploy'
  | 'verify'
  | 'switch'
  | 'rollback'
  | 'lock-acquire'
  | 'lock-renew'
  | 'lock-release'
  | 'lock-force-unlock';

/** One line of the audit trail. */
export interface AuditRecord {
  timestamp: string;
  event_type: AuditEventType;
  /** The run (deployment) it belongs to; null for an action outside a run (a force-unlock). */
  deployment_id: string | null;
  /** The service (and component) acted on, when the action is about one. */
  service: string | null;
  component?: string;
  region: string | null;
  user: string;
  status: string;
  duration_ms: number | null;
  correlation_id: string;
  stack: string;
  environment: string;
  /** Ids and one-line summaries (a lock key, a digest, a gate's verdict); never values of the configuration. */
  details?: Record<string, unknown>;
}

/** Where records go: a file appended to, or a function (standard output). */
export interface AuditLog {
  write(record: AuditRecord): void;
}

/** `-` writes to `stdout`; anything else is a file, appended to (its directory made). */
export function openAuditLog(target: string, stdout: (line: string) => void): AuditLog {
  if (target === '-') return { write: (r) => stdout(JSON.stringify(r) + '\n') };
  mkdirSync(path.dirname(target), { recursive: true });
  // Appended synchronously, a whole line at a time: records land in order and a crash loses none already written.
  return { write: (r) => appendFileSync(target, JSON.stringify(r) + '\n', { mode: 0o640 }) };
}

/** The record of a lock released by force (`lock unlock --force`, the server's force-unlock): whose lock, and which run held it. */
export function forceUnlockRecord(o: {
  lock: { lockKey: string; lockId: string; lockedBy: string; metadata: Record<string, string> };
  user: string;
  correlationId: string;
  stack: string;
  environment: string;
}): AuditRecord {
  return {
    timestamp: new Date().toISOString(),
    event_type: 'lock-force-unlock',
    deployment_id: o.lock.metadata['deployment_id'] ?? null,
    service: null,
    region: null,
    user: o.user,
    status: 'released',
    duration_ms: null,
    correlation_id: o.correlationId,
    stack: o.stack,
    environment: o.environment,
    details: { lockKey: o.lock.lockKey, lockId: o.lock.lockId, heldBy: o.lock.lockedBy },
  };
}
