/**
 * The ledger's schema as numbered migrations (issue 13: "numbered migrations with a schema
 * version"). A ledger file records the version it is at (SQLite's `user_version`, PostgreSQL's `ledger_schema` table); opening it
 * applies the migrations above that version, each in one transaction with its version bump, so
 * a file is at one version or the next, never between. A file at a version this deployer does
 * not know (written by a newer one) is refused, untouched: a migration is never undone.
 */
import type Database from 'better-sqlite3';
import type pg from 'pg';
import { InvalidInputError } from '../errors.js';
import { ACCESS_POSTGRES, ACCESS_SQLITE } from './access-schema.js';
import { backfillAggregates, backfillDurations } from './aggregate-backfill.js';
import { aggregatesSchema, allServicesBinsSchema } from './aggregate-schema.js';
import { backfillPostgresHistory } from './postgres-history.js';
import { backfillHistory, HISTORY_SQL } from './sqlite-history.js';
import { collation, runPostgres, runSqlite, type Dialect } from './sql-steps.js';
import { DRIFT_TYPE } from './store.js';
import { durationCountersSchema, TOTALS_INDEX } from './totals.js';
import { BUILTIN_DESCRIPTIONS } from './types.js';

export interface Migration {
  /** 1, 2, 3 ...: applied in order, each once. */
  version: number;
  /** What it changes, for the log and the error of a failed migration. */
  name: string;
  /** The change in SQLite's dialect. */
  sqlite: string;
  /** The same change in PostgreSQL's. */
  postgres: string;
  /** Work SQL alone cannot do (computing hashes), in the same transaction, after `sqlite`. */
  after?: (db: Database.Database) => void;
  /** The same work in PostgreSQL, after `postgres`. */
  afterPostgres?: (client: pg.ClientBase) => Promise<void>;
}

/** Migration 9: a run's deployments (`parentId`) and a deployment's rollbacks (`deploymentId`) by index. */
const LOOKUP_INDEXES = `
CREATE INDEX IF NOT EXISTS deployments_by_run ON deployments (parent_id);
CREATE INDEX IF NOT EXISTS rollbacks_by_deployment ON rollbacks (deployment_id);
`;

const COUNT_INDEX = 'CREATE INDEX deployments_by_environment ON deployments (environment, started, status, service, type);';

/** Migration 6. Records written before it are deployments: what they did is in their metadata only, and their history stays as written. */
const OPERATION_SQL = `
ALTER TABLE deployments ADD COLUMN operation TEXT NOT NULL DEFAULT 'deploy' CHECK (operation IN ('deploy','destroy','restart'));
DROP INDEX deployments_by_environment;
CREATE INDEX deployments_by_environment ON deployments (environment, started, operation, status, service, type);
`;

const STATUSES_V5 = `'pending','in-progress','success','failed','rolled-back'`;

/** Migration 8: the operations a record may have, drift added; its type, kept apart from the deployment types. */
const OPERATIONS_V8 = `'deploy','destroy','restart','drift'`;
const DRIFT_TYPE_ROW = `INSERT INTO deployment_types (name, description, builtin) VALUES ('${DRIFT_TYPE}', 'a drift check (deployer reconcile): nothing deployed', 1) ON CONFLICT (name) DO NOTHING;`;

/**
 * SQLite cannot change a CHECK: the deployments table is made again as it was, with the
 * operations `operations` may hold, every row copied, and its indexes made again (`indexes`:
 * those added after migration 8).
 */
function rebuildDeployments(version: number, operations: string, indexes = ''): string {
  const table = `deployments_v${version}`;
  return `
CREATE TABLE ${table} (
  id TEXT PRIMARY KEY,
  stack TEXT NOT NULL,
  service TEXT NOT NULL,
  version TEXT NOT NULL,
  environment TEXT NOT NULL,
  type TEXT NOT NULL REFERENCES deployment_types (name),
  started TEXT NOT NULL,
  completed TEXT,
  status TEXT NOT NULL CHECK (status IN (${STATUSES_V5})),
  initiator TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  parent_id TEXT,
  operation TEXT NOT NULL DEFAULT 'deploy' CHECK (operation IN (${operations}))
);
INSERT INTO ${table} (id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id, operation)
  SELECT id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id, operation FROM deployments;
DROP TABLE deployments;
ALTER TABLE ${table} RENAME TO deployments;
CREATE INDEX deployments_by_service ON deployments (service, environment, started);
CREATE INDEX deployments_by_started ON deployments (started);
CREATE INDEX deployments_by_environment ON deployments (environment, started, operation, status, service, type);
CREATE INDEX deployments_restores ON deployments (service, environment, completed) WHERE status = 'success' AND operation = 'deploy';
${indexes}`;
}

const DRIFT_SQLITE = `${rebuildDeployments(8, OPERATIONS_V8)}${DRIFT_TYPE_ROW}
`;

// PostgreSQL names a column's CHECK <table>_<column>_check.
const DRIFT_POSTGRES = `
ALTER TABLE deployments DROP CONSTRAINT deployments_operation_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_operation_check CHECK (operation IN (${OPERATIONS_V8}));
${DRIFT_TYPE_ROW}
`;

/** Migration 10: `deployer stop` and `deployer start` (issue 19: the local target's lifecycle) are operations too. */
const OPERATIONS_V10 = `'deploy','destroy','restart','drift','stop','start'`;

/** The deployments table made again with the operations of migration 10, and the indexes migration 9 added. */
const LIFECYCLE_SQLITE = rebuildDeployments(10, OPERATIONS_V10, `${TOTALS_INDEX}${LOOKUP_INDEXES}`);

const LIFECYCLE_POSTGRES = `
ALTER TABLE deployments DROP CONSTRAINT deployments_operation_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_operation_check CHECK (operation IN (${OPERATIONS_V10}));
`;

/**
 * Migration 12: the samples kept in the order their medians are read in (metric, bin, time ...),
 * which is also each one's whole key, so a write keeps two structures up instead of four (the
 * table, its key, and two indexes). SQLite makes the table again without a rowid; PostgreSQL keeps
 * its table and takes the new key (holding `seconds`, so the median's bin is read from it alone).
 */
const SAMPLES_KEY = 'metric, bin, started, environment, service, deployment_id, n';
const SAMPLES_SQLITE = `
CREATE TABLE metric_samples_v12 (
  metric TEXT NOT NULL, deployment_id TEXT NOT NULL, n INTEGER NOT NULL,
  started TEXT NOT NULL, environment TEXT NOT NULL, service TEXT NOT NULL, bin INTEGER NOT NULL, seconds DOUBLE PRECISION,
  PRIMARY KEY (${SAMPLES_KEY})
) WITHOUT ROWID;
INSERT INTO metric_samples_v12 (metric, deployment_id, n, started, environment, service, bin, seconds)
  SELECT metric, deployment_id, n, started, environment, service, bin, seconds FROM metric_samples;
DROP TABLE metric_samples;
ALTER TABLE metric_samples_v12 RENAME TO metric_samples;
CREATE INDEX metric_samples_by_time ON metric_samples (metric, started, environment, service, bin);
`;
const SAMPLES_POSTGRES = `
ALTER TABLE metric_samples DROP CONSTRAINT metric_samples_pkey;
DROP INDEX IF EXISTS metric_samples_by_bin;
ALTER TABLE metric_samples ADD PRIMARY KEY (${SAMPLES_KEY}) INCLUDE (seconds);
`;

/** Migration 5: the types deployments may have, the built-in ones in it from the start. */
function typesSchema(dialect: Dialect): string {
  const collate = collation(dialect);
  const builtins = Object.entries(BUILTIN_DESCRIPTIONS);
  return `
CREATE TABLE deployment_types (
  name TEXT${collate} PRIMARY KEY,
  description TEXT NOT NULL,
  builtin INTEGER NOT NULL DEFAULT 0
);
INSERT INTO deployment_types (name, description, builtin) VALUES ${builtins.map(([n, d]) => `('${n}', '${d}', 1)`).join(', ')};`;
}

/** Migration 4: the changes the git hooks record. */
function changesSchema(dialect: Dialect): string {
  const collate = collation(dialect);
  return `
CREATE TABLE changes (
  repo TEXT${collate} NOT NULL,
  commit_sha TEXT${collate} NOT NULL,
  committed_at TEXT${collate} NOT NULL,
  recorded_at TEXT NOT NULL,
  shipped_by TEXT,
  PRIMARY KEY (repo, commit_sha)
);
CREATE INDEX changes_pending ON changes (repo, shipped_by, committed_at);
`;
}

/** Migration 1: the tables of the ledgers written before migrations were numbered. */
function baseSchema(dialect: Dialect): string {
  const collate = collation(dialect);
  return `
CREATE TABLE IF NOT EXISTS deployments (
  id TEXT${collate} PRIMARY KEY,
  stack TEXT${collate} NOT NULL,
  service TEXT${collate} NOT NULL,
  version TEXT NOT NULL,
  environment TEXT${collate} NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('blue-green','canary','rolling','big-bang')),
  started TEXT${collate} NOT NULL,
  completed TEXT,
  status TEXT NOT NULL CHECK (status IN ('in-progress','success','failed','rolled-back')),
  initiator TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  parent_id TEXT
);
CREATE INDEX IF NOT EXISTS deployments_by_service ON deployments (service, environment, started);
CREATE INDEX IF NOT EXISTS deployments_by_started ON deployments (started);
CREATE TABLE IF NOT EXISTS rollbacks (
  id TEXT${collate} PRIMARY KEY,
  stack TEXT${collate} NOT NULL,
  service TEXT${collate} NOT NULL,
  environment TEXT${collate} NOT NULL,
  from_version TEXT NOT NULL,
  to_version TEXT NOT NULL,
  reason TEXT NOT NULL,
  at TEXT${collate} NOT NULL
);
CREATE INDEX IF NOT EXISTS rollbacks_by_service ON rollbacks (service, environment, at);
`;
}

/** Migration 13. */
const RECOUNTS_SQL = 'ALTER TABLE ledger_head ADD COLUMN recounts INTEGER NOT NULL DEFAULT 0;';

/**
 * Migration 14: the bins of every service (service '' until now) in a table of their own. The
 * table may be there already, with rows: migration 7 makes and fills it, as its backfill writes
 * as every write does, and a run stopped between 7 and 14 may have left a ledger an older
 * deployer then wrote to or recounted in the old layout. So the table is counted again from each
 * service's bins, which every layout kept right (each sample is in its service's bin and in the
 * bin of every service), and the rows of service '' are dropped.
 */
function allServicesBinsApart(dialect: Dialect): string {
  return `${allServicesBinsSchema(dialect)}
DELETE FROM metric_bins WHERE service = '';
DELETE FROM metric_bins_all_services;
INSERT INTO metric_bins_all_services (metric, environment, month, bin, count)
  SELECT metric, environment, month, bin, SUM(count) FROM metric_bins
  GROUP BY metric, environment, month, bin HAVING SUM(count) <> 0;
`;
}

/**
 * Every migration, oldest first. Migration 1 is the schema of the ledgers written before
 * migrations were numbered (`CREATE ... IF NOT EXISTS`), so such a file adopts version 1 as it is.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'deployments and rollbacks, indexed by service and time',
    sqlite: baseSchema('sqlite'),
    postgres: baseSchema('postgres'),
  },
  {
    version: 2,
    name: 'the audit history: every write a row, chained by hashes (ledger verify)',
    sqlite: HISTORY_SQL,
    postgres: HISTORY_SQL,
    after: backfillHistory,
    afterPostgres: backfillPostgresHistory,
  },
  {
    version: 3,
    name: 'an index that counts deployments by environment, time and status without reading the table (show-metrics)',
    sqlite: COUNT_INDEX,
    postgres: COUNT_INDEX,
  },
  {
    version: 4,
    name: 'changes (commits) recorded by git hooks, pending until a deployment ships them (lead time)',
    sqlite: changesSchema('sqlite'),
    postgres: changesSchema('postgres'),
  },
  {
    version: 5,
    name: 'registered deployment types, the pending status, and the deployment a rollback undid',
    sqlite: `${typesSchema('sqlite')}
CREATE TABLE deployments_v5 (
  id TEXT PRIMARY KEY,
  stack TEXT NOT NULL,
  service TEXT NOT NULL,
  version TEXT NOT NULL,
  environment TEXT NOT NULL,
  type TEXT NOT NULL REFERENCES deployment_types (name),
  started TEXT NOT NULL,
  completed TEXT,
  status TEXT NOT NULL CHECK (status IN (${STATUSES_V5})),
  initiator TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  parent_id TEXT
);
INSERT INTO deployments_v5 SELECT id, stack, service, version, environment, type, started, completed, status, initiator, metadata, parent_id FROM deployments;
DROP TABLE deployments;
ALTER TABLE deployments_v5 RENAME TO deployments;
CREATE INDEX deployments_by_service ON deployments (service, environment, started);
CREATE INDEX deployments_by_started ON deployments (started);
${COUNT_INDEX}
ALTER TABLE rollbacks ADD COLUMN deployment_id TEXT;
`,
    // PostgreSQL names a column's CHECK <table>_<column>_check.
    postgres: `${typesSchema('postgres')}
ALTER TABLE deployments DROP CONSTRAINT deployments_type_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_type_fkey FOREIGN KEY (type) REFERENCES deployment_types (name);
ALTER TABLE deployments DROP CONSTRAINT deployments_status_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_status_check CHECK (status IN (${STATUSES_V5}));
ALTER TABLE rollbacks ADD COLUMN deployment_id TEXT;
`,
  },
  {
    version: 6,
    name: 'what a run did to a service (deploy, destroy, restart): only deployments count in metrics',
    sqlite: OPERATION_SQL,
    postgres: OPERATION_SQL,
  },
  {
    version: 7,
    name: 'aggregates kept by every write (counts by month, binned lead and recovery times): a metric over a large ledger without reading it',
    sqlite: aggregatesSchema('sqlite'),
    postgres: aggregatesSchema('postgres'),
    after: (db) => runSqlite(db, backfillAggregates()),
    afterPostgres: (client) => runPostgres(client, backfillAggregates()),
  },
  {
    version: 8,
    name: 'drift records: the operation drift (a reconcile cycle, nothing deployed) and its type',
    sqlite: DRIFT_SQLITE,
    postgres: DRIFT_POSTGRES,
  },
  {
    version: 9,
    name:
      "the server's API tokens (by the hash of their secret), its append-only audit log and the webhook deliveries it received; " +
      'an index that totals deployments by group and duration without reading the table (GET /metrics); ' +
      "indexes that find a run's deployments and the rollbacks of a deployment (the API's deployment view)",
    sqlite: `${ACCESS_SQLITE}${TOTALS_INDEX}${LOOKUP_INDEXES}`,
    postgres: `${ACCESS_POSTGRES}${TOTALS_INDEX}${LOOKUP_INDEXES}`,
  },
  {
    version: 10,
    name: 'the operations stop and start (deployer stop|start on the local target): recorded, counted in no metric',
    sqlite: LIFECYCLE_SQLITE,
    postgres: LIFECYCLE_POSTGRES,
  },
  {
    version: 11,
    name: 'GET /metrics totals kept as counters by every write (deployments by group and duration bucket), the totals index dropped: one index fewer to keep up on every write',
    sqlite: durationCountersSchema('sqlite'),
    postgres: durationCountersSchema('postgres'),
    after: (db) => runSqlite(db, backfillDurations()),
    afterPostgres: (client) => runPostgres(client, backfillDurations()),
  },
  {
    version: 12,
    name: 'lead-time and recovery samples kept in the order medians read them, each found by its whole key: two structures to keep up on every write instead of four',
    sqlite: SAMPLES_SQLITE,
    postgres: SAMPLES_POSTGRES,
  },
  {
    version: 13,
    name: "the recounts of the aggregates (ledger recount) counted beside the chain's head: they change the ledger's revision, so answers cached before are not reused",
    sqlite: RECOUNTS_SQL,
    postgres: RECOUNTS_SQL,
  },
  {
    version: 14,
    name: "the lead-time and recovery bins of every service kept apart from each service's: a metric of every service reads them from a few pages",
    sqlite: allServicesBinsApart('sqlite'),
    postgres: allServicesBinsApart('postgres'),
  },
];

/** The version a ledger is at once every migration of this deployer is applied. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/**
 * Brings the SQLite ledger `db` (the file `file`) to SCHEMA_VERSION; returns the versions it
 * applied. Several processes opening one new file at once apply each migration once: the
 * version is read again inside the write transaction that applies it.
 */
export function migrateSqlite(db: Database.Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = (): number => db.pragma('user_version', { simple: true }) as number;
  refuseNewer(current(), latest, file);
  const applied: number[] = [];
  for (const m of migrations) {
    db.transaction(() => {
      if (current() >= m.version) return;
      db.exec(m.sqlite);
      m.after?.(db);
      // A pragma takes no bound parameter; the version is a number from the list above.
      db.pragma(`user_version = ${Number(m.version)}`);
      applied.push(m.version);
    }).immediate();
  }
  return applied;
}

export function refuseNewer(version: number, latest: number, file: string): void {
  if (version > latest) {
    throw new InvalidInputError(`the ledger ${file} is at schema version ${version}, newer than this deployer knows (${latest})`, [
      'It was written by a newer deployer: use that version (or newer) with this ledger. Nothing was changed.',
    ]);
  }
}
