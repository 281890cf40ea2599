/**
 * The LedgerStore interface: what the ledger records (deployment and rollback events) and how
 * it is written and read. Asynchronous, so that the SQLite store (sqlite.ts), the memory store
 * (memory.ts) and a PostgreSQL one implement it alike; ledger.contract.ts says what each must do.
 */
import type { AccessStore } from './access.js';
import type { ChainVerification } from './chain.js';

/** The deployment strategies every ledger knows. */
export type BuiltinDeploymentType = 'blue-green' | 'canary' | 'rolling' | 'big-bang';
/** How a service was deployed: a built-in strategy, or a type registered in the ledger (`ledger register-type`). */
export type DeploymentType = BuiltinDeploymentType | (string & {});
/** What became of a deployment: pending (queued, not started), in progress until its run ends it, then one of the last three. */
export type DeploymentStatus = 'pending' | 'in-progress' | 'success' | 'failed' | 'rolled-back';

/**
 * Whether a record's environment is the one asked for, or one of its regions: a multi-region
 * stack records `prod/eu-west-1`, and asking for `prod` finds it (filters, metrics).
 */
export function inEnvironment(recorded: string, asked: string): boolean {
  return recorded === asked || recorded.startsWith(`${asked}/`);
}

export const DEPLOYMENT_TYPES: readonly BuiltinDeploymentType[] = ['blue-green', 'canary', 'rolling', 'big-bang'];
/**
 * The type of a drift record (operation `drift`: a `deployer reconcile` cycle, nothing
 * deployed): kept by every ledger (migration 8), listed among no deployment types, never
 * registered by a team.
 */
export const DRIFT_TYPE = 'drift';
export const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['pending', 'in-progress', 'success', 'failed', 'rolled-back'];

/** A deployment type the ledger knows: a built-in one, or one a team registered. */
export interface DeploymentTypeInfo {
  name: string;
  description: string;
  builtin: boolean;
}

/** One service deployed in one run (the run's id is `parentId`). */
export interface DeploymentEvent {
  id: string;
  stack: string;
  service: string;
  version: string;
  environment: string;
  type: DeploymentType;
  started: string;
  completed: string | null;
  status: DeploymentStatus;
  /** `user@host` or the CI identity. */
  initiator: string;
  metadata: Record<string, unknown>;
  parentId: string | null;
  /**
   * What the run did to the service, when it was not a deployment: `destroy` (it was removed),
   * `restart` (restarted as it was), `drift` (a reconcile cycle checked it, type DRIFT_TYPE),
   * `stop` or `start` (`deployer stop|start` took its processes down or brought them back).
   * Such records are kept and listed, and counted in no metric.
   * Absent: a deployment (and every record written before the ledger kept it).
   */
  operation?: 'destroy' | 'restart' | 'drift' | 'stop' | 'start';
}

/** What a run did to a service: a deployment unless said otherwise. */
export type DeploymentOperation = 'deploy' | NonNullable<DeploymentEvent['operation']>;

/** One service rolled back (automatically after a failure, or by `deployer rollback`). */
export interface RollbackEvent {
  id: string;
  stack: string;
  service: string;
  environment: string;
  fromVersion: string;
  toVersion: string;
  reason: string;
  at: string;
  /** The deployment it undid, when known (absent in rollbacks recorded before the ledger kept it). */
  deploymentId?: string;
}

/** Which events to list: every field given must match (`since`, `until` and `limit` bound the list). */
export interface DeploymentFilter {
  /** Only the deployment with this id. */
  id?: string;
  /** Only the deployments of this run. */
  parentId?: string;
  stack?: string;
  service?: string;
  environment?: string;
  status?: DeploymentStatus;
  type?: DeploymentType;
  /** ISO time: only events (deployments by their start) at or after it. */
  since?: string;
  /** ISO time: only events at or before it. */
  until?: string;
  limit?: number;
}

/**
 * A change (a commit) recorded when it was made (`deployer ledger hook install`'s git hooks),
 * pending until a successful deployment ships it: lead time runs from `committedAt` to that
 * deployment's end. Kept by repository and commit; not part of the audit history's chain.
 */
export interface ChangeEvent {
  /** The repository: its origin URL without credentials, or its top-level directory. */
  repo: string;
  commit: string;
  /** The commit's committer time, UTC. */
  committedAt: string;
  recordedAt: string;
  /** The run whose successful deployment shipped it; null while pending. */
  shippedBy: string | null;
}

/** Many records to write at once (an import, an ingest): deployments first, then rollbacks, each in order. */
export interface LedgerBatch {
  deployments?: readonly DeploymentEvent[];
  rollbacks?: readonly RollbackEvent[];
}

/** Which deployments `countDeployments` counts: those started in [since, until], of the service and environments given. */
export interface CountFilter {
  since: string;
  until: string;
  service?: string;
  /** Only these environments (none given: every one). */
  environments?: readonly string[];
  /** A count per type, service or environment (else one group, `all`). */
  groupBy?: 'type' | 'service' | 'environment';
}

/** How many deployments of a group are in a status. */
export interface StatusCount {
  group: string;
  status: DeploymentStatus;
  count: number;
}

/** Which samples a median is taken over: those of the deployments started in [since, until], of the service and environments given. */
export interface SampleFilter {
  /** Lead time (a sample per change a successful deployment shipped) or recovery time (one per failed deployment). */
  metric: 'lead-time' | 'mttr';
  since: string;
  until: string;
  service?: string;
  /** Only these environments (none given: every one). */
  environments?: readonly string[];
}

/** A median of durations and what it was taken over. */
export interface SampleSummary {
  /** Seconds; null when there was nothing to take it over. */
  median: number | null;
  /** How many values it was taken over. */
  counted: number;
  /** Lead time: changes committed after their deployment ended (clock skew). Recovery time: failures not recovered yet. */
  leftOut: number;
  /** Lead time: successful deployments that carry no commit times (0 for recovery time). */
  withoutCommits: number;
}

/** The filter of rollbacks: a rollback has no status or type. */
export type RollbackFilter = Omit<DeploymentFilter, 'status' | 'type' | 'id' | 'parentId'> & {
  /** Only the rollbacks that undid this deployment. */
  deploymentId?: string;
};

/**
 * The ledger of deployments and rollbacks. Every write also appends a row to the audit history
 * (the record as the write left it, a new revision of it), which no write ever changes. Writes are idempotent by `id` (recording the same
 * deployment twice, e.g. once in-progress and once completed, keeps one row: its first stack,
 * service, environment, type, start, initiator and run, and the last version, completion,
 * status and metadata; recording a rollback again replaces it). Lists are newest first
 * (deployments by `started`, then by id; rollbacks by `at`). What a store hands out is a copy:
 * changing it changes nothing recorded. Every method is asynchronous and reports a failure by
 * rejecting (a machine refusing, such as a full disk, as a MachineFaultError naming where).
 */
export interface LedgerStore {
  /** Records a deployment, or updates the one with its id. */
  recordDeployment(event: DeploymentEvent): Promise<void>;
  /** Records a rollback, or replaces the one with its id. */
  recordRollback(event: RollbackEvent): Promise<void>;
  /**
   * Records every event of `batch` as the two methods above would, one after the other, but
   * all or nothing: one refused (or a failure midway) leaves the ledger as it was.
   */
  recordMany(batch: LedgerBatch): Promise<void>;
  /** The deployments `filter` selects, newest first. */
  listDeployments(filter?: DeploymentFilter): Promise<DeploymentEvent[]>;
  /** The rollbacks `filter` selects, newest first. */
  listRollbacks(filter?: RollbackFilter): Promise<RollbackEvent[]>;
  /** Registers a deployment type (a name, lower-case words joined by hyphens), or changes its description; a built-in one is refused. */
  registerType(name: string, description: string): Promise<void>;
  /** Every type deployments may be recorded with: the built-in ones first, then the registered ones by name. */
  deploymentTypes(): Promise<DeploymentTypeInfo[]>;
  /** Records changes not recorded yet (by repo and commit); one already recorded is kept as it is. Returns how many were new. */
  recordChanges(changes: readonly ChangeEvent[]): Promise<number>;
  /** The changes of `repo` no successful deployment has shipped yet, oldest commit first. */
  pendingChanges(repo: string): Promise<ChangeEvent[]>;
  /** Marks `commits` of `repo` shipped by the run `runId` (those already shipped keep their run). */
  shipChanges(repo: string, commits: readonly string[], runId: string): Promise<void>;
  /**
   * The deployments (no destroy or restart) of `filter` started at or after `since`, in no
   * order, each with only what the listed metrics read of its metadata (`changes`,
   * `commit_time`): lead time and recovery time without reading every record whole.
   */
  listForMetrics(filter: Omit<CountFilter, 'until' | 'groupBy'>): Promise<DeploymentEvent[]>;
  /** The deployments `filter` selects, counted by status (and group), without listing them: what the counted metrics need. */
  countDeployments(filter: CountFilter): Promise<StatusCount[]>;
  /**
   * The median lead time or recovery time of the deployments `filter` selects, as metrics.ts
   * computes it from the records (a recovery is looked for in the whole ledger), without listing them.
   */
  sampleMedian(filter: SampleFilter): Promise<SampleSummary>;
  /**
   * Checks the audit history (chain.ts): every write is a row that is never changed, chained by
   * hashes; says which rows or records were changed, removed or added behind the ledger's back.
   */
  verify(): Promise<ChainVerification>;
  /**
   * Counts the metrics' aggregates again from the records (aggregate-recount.ts) and says, table
   * by table, how many rows differ from what was kept. `keep: false` (a check) leaves them as
   * they were; `keep: true` keeps the recount. Other writers wait while it runs. A store that
   * keeps no aggregates (the memory store computes from its records) has none to differ.
   */
  recountAggregates(options: { keep: boolean }): Promise<AggregateDifference[]>;
  /**
   * What the ledger is at: a token that every write changes (the audit history's head, and the
   * count of kept recounts), so that what was computed from the ledger can be kept until it changes.
   */
  revision(): Promise<string>;
  /**
   * Deployments (operation deploy only: no destroy, restart or drift record) counted by
   * service, environment, type and status, each group with its durations (completed - started,
   * of the completed ones) in the cumulative buckets given: what `GET /metrics` exports as
   * `deployer_deployments_total` and `deployer_deployment_duration_seconds`. Each bound is one of
   * the ledger's (totals.ts DURATION_BOUNDS) or Infinity; another is refused. Read from counters
   * every write keeps, never from the records.
   */
  deploymentTotals(bucketsSeconds: readonly number[]): Promise<DeploymentTotals[]>;
  /** Rollbacks counted by service and environment (`deployer_rollbacks_total`). */
  rollbackTotals(): Promise<RollbackTotals[]>;
  /** The server's tokens, audit log and webhook deliveries, kept in the same database (access.ts). */
  access(): AccessStore;
  /** Releases the store (its file or connections); it is not used afterwards. */
  close(): Promise<void>;
}

/** How many rows of one aggregate table a recount found different from what was kept. */
export interface AggregateDifference {
  table: 'metric_counts' | 'metric_bins' | 'metric_bins_all_services' | 'metric_samples' | 'failures' | 'deployment_durations';
  differingRows: number;
}

/** One group of `LedgerStore.deploymentTotals`. */
export interface DeploymentTotals {
  service: string;
  environment: string;
  type: DeploymentType;
  status: DeploymentStatus;
  count: number;
  /** Completed deployments of the group with a duration at or below each bucket's bound (cumulative, in the order given). */
  buckets: number[];
  /** How many completed deployments have a duration, and its sum in seconds. */
  durationCount: number;
  durationSum: number;
}

/** One group of `LedgerStore.rollbackTotals`. */
export interface RollbackTotals {
  service: string;
  environment: string;
  count: number;
}
