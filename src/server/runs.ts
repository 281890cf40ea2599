/**
 * Runs the server starts in the background (`POST /api/v1/deploy`, `POST /api/v1/rollback/..`):
 * the same workflows `deployer apply` and `deployer rollback` call, confirmed in advance as
 * with `--yes`. Each run's events are kept (for `GET /api/v1/runs/{id}` and its event stream)
 * and handed to live subscribers. Starting answers once the run holds its lock (or has ended
 * without needing it), so a request for a stack that another run holds is answered 409 with
 * the holder, as the lock decides, whether that run is in this server or anywhere else.
 * Runs are kept in memory: after a restart the ledger still has every deployment.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Settings } from '../config/index.js';
import { DeployerError, InternalError, LockHeldError } from '../errors.js';
import type { RunEvent, RunListener, RunSummary } from '../executor/events.js';
import type { Role } from '../ledger/access.js';
import type { SavedPlan } from '../model/plan.js';
import { applyStack } from '../workflows/apply.js';
import { openAuditLog } from '../util/audit-log.js';
import type { RunContext, RunOutcome } from '../workflows/context.js';
import type { RollbackTarget } from '../workflows/restore.js';
import { rollbackToVersion } from '../workflows/rollback.js';

/** What a run was asked to do. */
export type RunKind = 'deploy' | 'rollback';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A run as the API shows it. */
export interface RunView {
  id: string;
  kind: RunKind;
  stack: string;
  environment: string;
  status: RunStatus;
  initiator: string;
  startedAt: string;
  endedAt: string | null;
  /** The workflow's run id (the ledger's deployments carry it as their parent), once known. */
  ledgerRunId: string | null;
  summary: RunSummary | null;
  /** Why it failed, when it failed before or outside its components. */
  error: { code: string; message: string; details: string[] } | null;
  /** A run that found nothing to do says why. */
  note: string | null;
}

/** What starting a run needs. */
export interface RunRequest {
  kind: RunKind;
  stack: string;
  environment: string;
  settings: Settings;
  initiator: string;
  /** Who asked, as the audit log names them (a token id, `jwt:<sub>`), and from where. */
  actor?: { actor: string; role: Role | null; source: string };
  metadata: Record<string, string>;
  /** deploy: carry out this saved plan (refused when stale). */
  savedPlan?: SavedPlan;
  /** rollback: the state version to return to (default the last known good one). */
  to?: RollbackTarget;
}

/** How starting ended: the run is under way (or already over), or another holds the lock. */
export type StartResult = { started: RunView } | { held: LockHeldError };

interface Live {
  view: RunView;
  /** How the workflow ended: what it returned, or what it threw. */
  outcome?: RunOutcome;
  failure?: unknown;
  events: RunEvent[];
  subscribers: Set<(event: RunEvent | null) => void>;
  stop: AbortController;
  cancel: AbortController;
  done: Promise<void>;
}

/** Watches a run (server/index.ts traces each one): the listener the run is given instead, and what to call when it ends. */
export type RunObserver = (
  request: RunRequest,
  listener: RunListener,
) => { listener: RunListener; end(result: { outcome: RunOutcome } | { error: unknown }): void };

/** Runs a workflow for a request; replaced in unit tests. */
export type RunWorkflow = (request: RunRequest, ctx: RunContext) => Promise<RunOutcome>;

const defaultWorkflow: RunWorkflow = (request, ctx) =>
  request.kind === 'deploy' ? applyStack(ctx) : rollbackToVersion(ctx, request.to ?? 'last-good');

/** Ended runs kept for `GET /api/v1/runs` (older ones are forgotten as new ones start). */
const KEPT_RUNS = 200;

/** The server is stopping: it starts no run (answered 503). */
export class ServerStoppingError extends DeployerError {
  /** The HTTP status it is answered with (http-errors.ts): the server is unavailable, not the request wrong. */
  readonly httpStatus = 503;
  constructor() {
    super('CANCELLED', 'the server is stopping: it starts no new run', { details: ['Send the request again once it is back.'] });
  }
}

/** At most this many events are kept per run; progress lines beyond it are dropped (the rest are kept). */
const MAX_EVENTS = 20_000;

/**
 * The runs of one server: starts them (answering once each holds its lock and has its plan),
 * keeps their events for late subscribers, tells live ones, and stops them all on close.
 */
export class RunManager {
  private readonly runs = new Map<string, Live>();
  private closing = false;

  constructor(
    private readonly workflow: RunWorkflow = defaultWorkflow,
    /** Watches each run (tracing): given its listener and request, the listener to use and what to call when it ends. */
    private readonly observe?: RunObserver,
    /** Told of each run that ended (the audit log's row of how it ended). */
    private readonly onEnd?: (run: RunView, request: RunRequest) => Promise<void> | void,
  ) {}

  /** Ended runs beyond the newest KEPT_RUNS are forgotten (the ledger keeps what they deployed). */
  private forgetOldRuns(): void {
    const ended = [...this.runs.values()]
      .filter((r) => r.view.status !== 'running')
      .sort((a, b) => a.view.startedAt.localeCompare(b.view.startedAt));
    for (const r of ended.slice(0, Math.max(0, ended.length - KEPT_RUNS))) this.runs.delete(r.view.id);
  }

  /**
   * Starts a run; resolves once it holds its lock and has its plan, or has ended. A run refused
   * before then (invalid input, a stale plan) rejects with that error, and a held lock gives `held`.
   */
  async start(request: RunRequest): Promise<StartResult> {
    if (this.closing) throw new ServerStoppingError();
    const view: RunView = {
      id: randomUUID(),
      kind: request.kind,
      stack: request.stack,
      environment: request.environment,
      status: 'running',
      initiator: request.initiator,
      startedAt: new Date().toISOString(),
      endedAt: null,
      ledgerRunId: null,
      summary: null,
      error: null,
      note: null,
    };
    const stop = new AbortController();
    const cancel = new AbortController();
    setMaxListeners(0, stop.signal, cancel.signal);
    // The plan is told once the lock is held and the plan checked (a saved plan's staleness
    // too): whatever refuses the run before then is answered to the request that asked for it.
    let planned: () => void = () => undefined;
    const hasPlan = new Promise<void>((resolve) => (planned = resolve));
    const live: Live = { view, events: [], subscribers: new Set(), stop, cancel, done: Promise.resolve() };
    const own: RunListener = (event) => {
      if (event.type === 'plan') planned();
      if (event.type === 'summary') view.ledgerRunId = event.summary.runId;
      this.keep(live, event);
    };
    const observed = this.observe?.(request, own);
    const listener = observed?.listener ?? own;
    const ctx: RunContext = {
      settings: request.settings,
      listener,
      stop: stop.signal,
      cancel: cancel.signal,
      initiator: request.initiator,
      metadata: request.metadata,
      // The server's run is audited like the CLI's, under the run's id (the server's own audit log has the request).
      correlationId: view.id,
      ...(request.settings.auditLog ? { audit: openAuditLog(request.settings.auditLog, (line) => process.stdout.write(line)) } : {}),
      ...(request.savedPlan ? { savedPlan: { file: 'the plan in the request', saved: request.savedPlan } } : {}),
    };
    const outcome = this.workflow(request, ctx);
    live.done = outcome
      .then(
        (o) => this.finish(live, o),
        (e: unknown) => this.fail(live, e),
      )
      .finally(() => {
        // Telling the tracer and the audit log never decides how a run ended, nor crashes the server.
        try {
          observed?.end(live.outcome ? { outcome: live.outcome } : { error: live.failure });
        } catch {
          /* a tracing failure loses a span, nothing else */
        }
        void Promise.resolve()
          .then(() => this.onEnd?.(live.view, request))
          .catch(() => undefined);
      });
    const first = await Promise.race([
      hasPlan.then(() => 'planned' as const),
      outcome.then(
        () => 'ended' as const,
        (e: unknown) => e,
      ),
    ]);
    if (first instanceof LockHeldError) return { held: first };
    // Refused before its plan (invalid input, a stale plan, an engine or ledger that cannot be
    // had, a bug): the request that asked for it is answered with why, and no run is kept.
    if (first instanceof Error || (first !== 'planned' && first !== 'ended')) throw first;
    this.runs.set(view.id, live);
    this.forgetOldRuns();
    return { started: view };
  }

  get(id: string): RunView | undefined {
    return this.runs.get(id)?.view;
  }

  /** Runs newest first. */
  list(): RunView[] {
    return [...this.runs.values()].map((r) => r.view).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /**
   * The events of run `id` so far, each handed to `onEvent`, then every later one as it comes;
   * `onEvent(null)` once the run has ended. Returns the function that stops the subscription, or
   * undefined when there is no such run.
   */
  subscribe(id: string, onEvent: (event: RunEvent | null) => void): (() => void) | undefined {
    const live = this.runs.get(id);
    if (!live) return undefined;
    for (const e of live.events) onEvent(e);
    if (live.view.status !== 'running') {
      onEvent(null);
      return () => undefined;
    }
    live.subscribers.add(onEvent);
    return () => live.subscribers.delete(onEvent);
  }

  /** Waits for run `id` to end (tests, shutdown). */
  async settled(id: string): Promise<RunView | undefined> {
    const live = this.runs.get(id);
    await live?.done;
    return live?.view;
  }

  /** Stops every running run (running components finish, none starts), cancels them after `graceMs`, and waits for all; starts no new one. */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    const running = [...this.runs.values()].filter((r) => r.view.status === 'running');
    for (const r of running) r.stop.abort();
    const timer = setTimeout(() => running.forEach((r) => r.cancel.abort()), graceMs);
    timer.unref();
    await Promise.all(running.map((r) => r.done));
    clearTimeout(timer);
  }

  private keep(live: Live, event: RunEvent): void {
    if (live.events.length < MAX_EVENTS || event.type !== 'component-progress') live.events.push(event);
    for (const s of live.subscribers) s(event);
  }

  private finish(live: Live, outcome: RunOutcome): void {
    live.outcome = outcome;
    const v = live.view;
    if (outcome.status === 'done') {
      v.summary = outcome.summary;
      v.status = outcome.summary.ok ? 'succeeded' : live.stop.signal.aborted ? 'cancelled' : 'failed';
    } else if (outcome.status === 'nothing') {
      v.status = 'succeeded';
      v.note = outcome.reason;
    } else {
      // Nothing confirms interactively here: a declined run would be a bug.
      v.status = 'failed';
      v.error = { code: 'INTERNAL', message: new InternalError('a server run was declined').message, details: [] };
    }
    this.end(live);
  }

  private fail(live: Live, e: unknown): void {
    live.failure = e;
    const err =
      e instanceof DeployerError
        ? e
        : new InternalError(`a server run failed unexpectedly: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    live.view.status = err.code === 'CANCELLED' ? 'cancelled' : 'failed';
    live.view.error = { code: err.code, message: err.message, details: err.details };
    this.end(live);
  }

  private end(live: Live): void {
    live.view.endedAt = new Date().toISOString();
    for (const s of live.subscribers) s(null);
    live.subscribers.clear();
  }
}
