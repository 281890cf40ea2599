/**
 * The tables of the aggregates aggregate-writes.ts keeps true as records are written: migration
 * 7's (status counts, lead-time and recovery samples with their bins, failures, the index restores
 * are found by), and migration 14's for the bins of every service. In either dialect.
 */
import { collation, type Dialect } from './sql-steps.js';

/**
 * Migration 14 (and 7, whose backfill is the same code as every write and so writes them): the
 * bins that count every service, apart from each service's. A metric asked of every service (the
 * usual question) reads a few thousand of them; kept among each service's bins, a write's worth at
 * a time, PostgreSQL found them one or two to a page of its heap (1M events: 7,130 rows over 2,475 pages).
 */
export function allServicesBinsSchema(dialect: Dialect): string {
  const c = collation(dialect);
  return `
CREATE TABLE IF NOT EXISTS metric_bins_all_services (
  metric TEXT NOT NULL, environment TEXT${c} NOT NULL, month TEXT${c} NOT NULL, bin INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (metric, environment, month, bin)
)${dialect === 'sqlite' ? ' WITHOUT ROWID' : ''};
`;
}

/** Migration 7: the aggregates' tables and the index restores are found by. */
export function aggregatesSchema(dialect: Dialect): string {
  const c = collation(dialect);
  return `${allServicesBinsSchema(dialect)}
CREATE TABLE metric_counts (
  environment TEXT${c} NOT NULL, month TEXT${c} NOT NULL, service TEXT${c} NOT NULL, type TEXT${c} NOT NULL, status TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (environment, month, service, type, status)
);
CREATE TABLE metric_samples (
  metric TEXT NOT NULL, deployment_id TEXT${c} NOT NULL, n INTEGER NOT NULL,
  started TEXT${c} NOT NULL, environment TEXT${c} NOT NULL, service TEXT${c} NOT NULL, bin INTEGER NOT NULL, seconds DOUBLE PRECISION,
  PRIMARY KEY (metric, deployment_id, n)
);
CREATE INDEX metric_samples_by_time ON metric_samples (metric, started, environment, service, bin);
CREATE INDEX metric_samples_by_bin ON metric_samples (metric, bin, started, environment, service, seconds);
CREATE TABLE metric_bins (
  metric TEXT NOT NULL, service TEXT${c} NOT NULL, environment TEXT${c} NOT NULL, month TEXT${c} NOT NULL, bin INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (metric, service, environment, month, bin)
);
CREATE TABLE failures (
  deployment_id TEXT${c} PRIMARY KEY, service TEXT${c} NOT NULL, environment TEXT${c} NOT NULL, started TEXT${c} NOT NULL,
  failed_at TEXT${c} NOT NULL, restored_at TEXT${c}
);
CREATE INDEX failures_by_restore ON failures (service, environment, restored_at);
CREATE INDEX deployments_restores ON deployments (service, environment, completed${c}) WHERE status = 'success' AND operation = 'deploy';
`;
}
