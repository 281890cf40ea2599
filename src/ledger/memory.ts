/**
 * The ledger in memory (one process), for tests of the layers above: the same contract as the
 * SQLite store (ledger.contract.ts), the same refusals of what its schema refuses, and handles
 * that can share their records, so a run may close its handle while the test reads on.
 */
import type { AccessStore } from './access.js';
import { emptyAccessRecords, MemoryAccess, type MemoryAccessRecords } from './access-memory.js';
import { deploymentTotalsOf, rollbackTotalsOf } from './totals.js';
import { leadTimeSummary, recoverySummary } from './metrics.js';
import { BUILTIN_DESCRIPTIONS, refuseTypeName } from './types.js';
import { appendRow, ChainVerifier, GENESIS, type ChainHead, type ChainRow, type ChainVerification, type RecordKind } from './chain.js';
import {
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  DRIFT_TYPE,
  inEnvironment,
  type AggregateDifference,
  type DeploymentEvent,
  type DeploymentFilter,
  type DeploymentStatus,
  type DeploymentType,
  type ChangeEvent,
  type DeploymentTypeInfo,
  type DeploymentTotals,
  type RollbackTotals,
  type CountFilter,
  type SampleFilter,
  type SampleSummary,
  type StatusCount,
  type LedgerBatch,
  type LedgerStore,
  type RollbackEvent,
  type RollbackFilter,
} from './store.js';

/** What a memory ledger holds; share it between handles to see the same ledger through both. */
export interface MemoryLedgerRecords {
  deployments: Map<string, DeploymentEvent>;
  rollbacks: Map<string, RollbackEvent>;
  /** Changes by repo and commit. */
  changes: Map<string, ChangeEvent>;
  /** Registered deployment types (the built-in ones are not in it). */
  types: Map<string, DeploymentTypeInfo>;
  /** The audit history, and its head. */
  history: ChainRow[];
  head: ChainHead;
  /** The AccessStore's tokens, audit log and deliveries: made on first use, on these records, so every handle on them shares it. */
  access?: MemoryAccessRecords;
}

const TYPES: ReadonlySet<DeploymentType> = new Set(DEPLOYMENT_TYPES);
/** The built-in types as migration 5 registers them in the SQL stores. */
const BUILTIN_TYPE_INFO: readonly DeploymentTypeInfo[] = DEPLOYMENT_TYPES.map((name) => ({
  name,
  description: BUILTIN_DESCRIPTIONS[name],
  builtin: true,
}));
const STATUSES: ReadonlySet<DeploymentStatus> = new Set(DEPLOYMENT_STATUSES);

/** LedgerStore in memory: a handle on `records` (new ones by default), unusable once closed. */
export class MemoryLedger implements LedgerStore {
  readonly records: MemoryLedgerRecords;
  private closed = false;
  private accessStore: MemoryAccess | undefined;

  constructor(records?: MemoryLedgerRecords) {
    this.records = records ?? {
      deployments: new Map(),
      rollbacks: new Map(),
      changes: new Map(),
      types: new Map(),
      history: [],
      head: { rows: 0, hash: GENESIS },
    };
  }

  async recordDeployment(e: DeploymentEvent): Promise<void> {
    this.open();
    this.refuseUnknown(e);
    const stored = this.records.deployments.get(e.id);
    // As SQLite's upsert: a deployment recorded again keeps what it was, and takes its new outcome.
    const next = stored ? { ...stored, version: e.version, completed: e.completed, status: e.status, metadata: e.metadata } : e;
    this.records.deployments.set(e.id, copyDeployment(next));
    this.append('deployment', e.id, next, next.completed ?? next.started);
  }

  async recordMany(batch: LedgerBatch): Promise<void> {
    this.open();
    for (const e of batch.deployments ?? []) this.refuseUnknown(e);
    for (const e of batch.deployments ?? []) await this.recordDeployment(e);
    for (const e of batch.rollbacks ?? []) await this.recordRollback(e);
  }

  /** What the SQL stores' constraints refuse: a type neither built in nor registered, a status of none. */
  private refuseUnknown(e: DeploymentEvent): void {
    if (!TYPES.has(e.type) && !this.records.types.has(e.type) && e.type !== DRIFT_TYPE)
      throw new Error(`the ledger refuses deployment ${e.id}: no deployment type ${String(e.type)}`);
    if (!STATUSES.has(e.status)) throw new Error(`the ledger refuses deployment ${e.id}: no deployment status ${String(e.status)}`);
  }

  async registerType(name: string, description: string): Promise<void> {
    this.open();
    refuseTypeName(name);
    this.records.types.set(name, { name, description, builtin: false });
  }

  async deploymentTypes(): Promise<DeploymentTypeInfo[]> {
    this.open();
    const registered = [...this.records.types.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return [...BUILTIN_TYPE_INFO, ...registered].map((t) => ({ ...t }));
  }

  async recordRollback(e: RollbackEvent): Promise<void> {
    this.open();
    this.records.rollbacks.set(e.id, { ...e });
    this.append('rollback', e.id, e, e.at);
  }

  async verify(): Promise<ChainVerification> {
    this.open();
    const verifier = new ChainVerifier();
    this.records.history.forEach((row) => verifier.row(row));
    verifier.head(this.records.head);
    for (const d of this.records.deployments.values()) verifier.current('deployment', d);
    for (const r of this.records.rollbacks.values()) verifier.current('rollback', r);
    return verifier.result();
  }

  async recountAggregates(): Promise<AggregateDifference[]> {
    this.open();
    return [];
  }

  private append(kind: RecordKind, recordId: string, record: unknown, recordedAt: string): void {
    const { history } = this.records;
    const revision = history.filter((r) => r.kind === kind && r.recordId === recordId).length + 1;
    const row = appendRow(this.records.head, { kind, recordId, revision, record: JSON.parse(JSON.stringify(record)), recordedAt });
    history.push(row);
    this.records.head = { rows: row.seq, hash: row.hash };
  }

  async listDeployments(f: DeploymentFilter = {}): Promise<DeploymentEvent[]> {
    this.open();
    const rows = [...this.records.deployments.values()].filter(
      (d) =>
        matches(d, f, d.started) &&
        (!f.status || d.status === f.status) &&
        (!f.type || d.type === f.type) &&
        (!f.id || d.id === f.id) &&
        (!f.parentId || d.parentId === f.parentId),
    );
    return limited(
      rows.sort((a, b) => newestFirst(a.started, b.started, a.id, b.id)),
      f.limit,
    ).map(copyDeployment);
  }

  async listRollbacks(f: RollbackFilter = {}): Promise<RollbackEvent[]> {
    this.open();
    const rows = [...this.records.rollbacks.values()].filter(
      (r) => matches(r, f, r.at) && (!f.deploymentId || r.deploymentId === f.deploymentId),
    );
    return limited(
      rows.sort((a, b) => newestFirst(a.at, b.at, a.id, b.id)),
      f.limit,
    ).map((r) => ({ ...r }));
  }

  async recordChanges(changes: readonly ChangeEvent[]): Promise<number> {
    this.open();
    let added = 0;
    for (const c of changes) {
      const key = `${c.repo}\u0000${c.commit}`;
      if (this.records.changes.has(key)) continue;
      this.records.changes.set(key, { ...c });
      added++;
    }
    return added;
  }

  async pendingChanges(repo: string): Promise<ChangeEvent[]> {
    this.open();
    return [...this.records.changes.values()]
      .filter((c) => c.repo === repo && c.shippedBy === null)
      .sort((a, b) => (a.committedAt < b.committedAt ? -1 : a.committedAt > b.committedAt ? 1 : a.commit < b.commit ? -1 : 1))
      .map((c) => ({ ...c }));
  }

  async shipChanges(repo: string, commits: readonly string[], runId: string): Promise<void> {
    this.open();
    for (const commit of commits) {
      const c = this.records.changes.get(`${repo}\u0000${commit}`);
      if (c && c.shippedBy === null) c.shippedBy = runId;
    }
  }

  async listForMetrics(f: Omit<CountFilter, 'until' | 'groupBy'>): Promise<DeploymentEvent[]> {
    this.open();
    const keep = (d: DeploymentEvent): boolean =>
      !d.operation &&
      d.started >= f.since &&
      (!f.service || d.service === f.service) &&
      (!f.environments || f.environments.some((x) => inEnvironment(d.environment, x)));
    return [...this.records.deployments.values()].filter(keep).map((d) => {
      const metadata: Record<string, unknown> = {};
      for (const key of ['changes', 'commit_time'])
        if (d.metadata[key] !== undefined && d.metadata[key] !== null) metadata[key] = d.metadata[key];
      return copyDeployment({ ...d, metadata });
    });
  }

  async countDeployments(f: CountFilter): Promise<StatusCount[]> {
    this.open();
    const counts = new Map<string, StatusCount>();
    for (const d of this.records.deployments.values()) {
      if (d.operation || d.started < f.since || d.started > f.until || (f.service && d.service !== f.service)) continue;
      if (f.environments && !f.environments.some((x) => inEnvironment(d.environment, x))) continue;
      const group = f.groupBy ? d[f.groupBy] : 'all';
      const key = `${group}\u0000${d.status}`;
      const c = counts.get(key) ?? { group, status: d.status, count: 0 };
      c.count++;
      counts.set(key, c);
    }
    return [...counts.values()];
  }

  async sampleMedian(f: SampleFilter): Promise<SampleSummary> {
    this.open();
    // Deployments only (a destroy or restart restores nothing); failures and changes of the service and environments asked.
    const deployments = [...this.records.deployments.values()].filter((d) => !d.operation);
    const w = { from: f.since, to: f.until };
    const asked = (e: { service: string; environment: string }): boolean =>
      (!f.service || e.service === f.service) && (!f.environments || f.environments.some((x) => inEnvironment(e.environment, x)));
    if (f.metric === 'lead-time') return leadTimeSummary(deployments.filter(asked), w);
    // Only the failures asked for; a restore is looked for in their own service and environment, among every success.
    const failuresAskedAndRestores = deployments.filter((d) => asked(d) || d.status === 'success');
    return recoverySummary(failuresAskedAndRestores, [...this.records.rollbacks.values()], w);
  }

  async deploymentTotals(bucketsSeconds: readonly number[]): Promise<DeploymentTotals[]> {
    this.open();
    return deploymentTotalsOf(this.records.deployments.values(), bucketsSeconds);
  }

  async rollbackTotals(): Promise<RollbackTotals[]> {
    this.open();
    return rollbackTotalsOf(this.records.rollbacks.values());
  }

  access(): AccessStore {
    return (this.accessStore ??= new MemoryAccess((this.records.access ??= emptyAccessRecords()), () => this.open()));
  }

  async revision(): Promise<string> {
    this.open();
    return `${this.records.head.rows}:${this.records.head.hash}`;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private open(): void {
    if (this.closed) throw new Error('the ledger is closed');
  }
}

function matches(e: { stack: string; service: string; environment: string }, f: RollbackFilter, time: string): boolean {
  for (const key of ['stack', 'service'] as const) {
    if (f[key] && e[key] !== f[key]) return false;
  }
  if (f.environment && !inEnvironment(e.environment, f.environment)) return false;
  return (!f.since || time >= f.since) && (!f.until || time <= f.until);
}

/** Newest first; at the same time, by id (as the SQLite store orders them). */
function newestFirst(timeA: string, timeB: string, idA: string, idB: string): number {
  if (timeA !== timeB) return timeA > timeB ? -1 : 1;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

/** At most `limit` rows; none given (or negative, as SQLite's LIMIT -1) is no limit. */
function limited<T>(rows: T[], limit: number | undefined): T[] {
  return limit === undefined || limit < 0 ? rows : rows.slice(0, limit);
}

/** A copy, the metadata through JSON as the SQLite store keeps it: nothing handed out is shared. */
function copyDeployment(d: DeploymentEvent): DeploymentEvent {
  return { ...d, metadata: JSON.parse(JSON.stringify(d.metadata)) as Record<string, unknown> };
}
