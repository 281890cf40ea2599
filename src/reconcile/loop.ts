/**
 * `deployer reconcile`: drift detection on a schedule (seed 004's reconciliation loop). A cycle
 * skips when a deploy holds the stack's lock, else checks for drift, alerts on critical drift,
 * and (opt in) remediates through a locked apply. Cycles never overlap (one runs after the
 * other); the pause between them is the interval with ±10 % jitter, doubled after each failed
 * cycle up to 8 intervals. Aborting the signal (SIGTERM) lets the running cycle finish and ends
 * the loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Settings } from '../config/index.js';
import { DeployerError, LockHeldError } from '../errors.js';
import type { RunListener } from '../executor/events.js';
import { openLockManager, stackLockKey, staleReason } from '../lock/index.js';
import type { DesiredStack } from '../model/desired.js';
import { loadStack, type LoadedStack } from '../workflows/load-stack.js';
import { recordCycle } from './ledger-records.js';
import { sendAlerts, type AlertOutcome, type AlertTarget } from './alert.js';
import { detectDrift, type DriftEvent, type DriftReport } from './drift.js';
import { chooseRemediation, remediate, type RemediationPolicy } from './remediate.js';

/** How one cycle ended. */
export type CycleStatus = 'clean' | 'drifted' | 'remediated' | 'skipped' | 'failed';

export interface CycleResult {
  cycle: number;
  status: CycleStatus;
  startedAt: string;
  durationMs: number;
  /** Why it skipped or failed. */
  reason?: string;
  report?: DriftReport;
  alerts?: AlertOutcome;
  /** What remediation did: the components it brought back, those it left as reported and why, and whether its run succeeded. */
  remediation?: { components: string[]; left: Array<{ id: string; reason: string }>; ok: boolean; reason?: string };
  /** The cycle could not be written to the ledger: why. */
  ledgerError?: string;
}

export interface ReconcileOptions {
  settings: Settings;
  /** The interval between cycles, ms. */
  everyMs: number;
  /** One cycle, then return (cron, CI). */
  once: boolean;
  /** Remediate drift; absent: report only. */
  remediation?: RemediationPolicy;
  alert?: AlertTarget;
  concurrency?: number;
  /** Aborted: finish the running cycle, start no other. */
  signal?: AbortSignal;
  onCycle?: (r: CycleResult) => void;
  onDrift?: (e: DriftEvent) => void;
  /** The remediation run's progress. */
  listener?: RunListener;
  /** In [0, 1): the jitter (tests pass their own). */
  random?: () => number;
}

/** The pause before the next cycle: the interval ±10 %, doubled per failure in a row, capped at 8 intervals. */
export function nextPauseMs(everyMs: number, failuresInARow: number, random: () => number = Math.random): number {
  const base = Math.min(everyMs * 2 ** failuresInARow, everyMs * 8);
  return Math.round(base * (0.9 + 0.2 * random()));
}

/** Runs cycles until `once` is done or the signal is aborted; resolves to every cycle's result. */
export async function reconcileLoop(o: ReconcileOptions): Promise<CycleResult[]> {
  const results: CycleResult[] = [];
  let failures = 0;
  for (let cycle = 1; !o.signal?.aborted; cycle++) {
    const result = await runCycle(o, cycle);
    results.push(result);
    o.onCycle?.(result);
    failures = result.status === 'failed' ? failures + 1 : 0;
    if (o.once) break;
    try {
      await sleep(nextPauseMs(o.everyMs, failures, o.random), undefined, o.signal ? { signal: o.signal } : {});
    } catch {
      break; // aborted while waiting
    }
  }
  return results;
}

/** A deploy holding the stack: its lock is held and not stale (a dead run's is taken over by the next apply). */
async function deployInProgress(settings: Settings, desired: DesiredStack): Promise<string | undefined> {
  const locks = await openLockManager(settings.lockUrl, settings.dir).list(stackLockKey(desired.name, desired.environment));
  const live = locks.find((l) => staleReason(l) === undefined);
  return live ? `${live.metadata['operation'] ?? 'a run'} by ${live.lockedBy} holds ${live.lockKey} (lock id ${live.lockId})` : undefined;
}

/**
 * One cycle, written to the ledger when the stack could be loaded (a drift record per service);
 * a ledger that cannot be written is said in the result, and the loop goes on.
 */
export async function runCycle(o: ReconcileOptions, cycle: number): Promise<CycleResult> {
  const t0 = Date.now();
  let loaded: LoadedStack;
  try {
    loaded = await loadStack(o.settings);
  } catch (err) {
    if (!(err instanceof DeployerError)) throw err;
    return { cycle, startedAt: new Date(t0).toISOString(), status: 'failed', reason: err.message, durationMs: Date.now() - t0 };
  }
  const result = await checkAndRemediate(o, cycle, t0, loaded);
  try {
    await recordCycle(o.settings, loaded.desired, result);
    return result;
  } catch (err) {
    if (!(err instanceof DeployerError)) throw err;
    return { ...result, ledgerError: err.message };
  }
}

async function checkAndRemediate(o: ReconcileOptions, cycle: number, t0: number, loaded: LoadedStack): Promise<CycleResult> {
  const base = { cycle, startedAt: new Date(t0).toISOString() };
  const done = (r: Omit<CycleResult, 'cycle' | 'startedAt' | 'durationMs'>): CycleResult => ({
    ...base,
    ...r,
    durationMs: Date.now() - t0,
  });
  try {
    const busy = await deployInProgress(o.settings, loaded.desired);
    if (busy) return done({ status: 'skipped', reason: `a deploy is in progress: ${busy}` });
    const report = await detectDrift({
      settings: o.settings,
      loaded,
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      ...(o.onDrift ? { onEvent: o.onDrift } : {}),
    });
    const alerts = o.alert && report.counts.critical > 0 ? await sendAlerts(o.alert, report) : undefined;
    const withAlerts = alerts ? { alerts } : {};
    if (report.counts.errors > 0)
      return done({ status: 'failed', reason: `${report.counts.errors} component(s) could not be checked`, report, ...withAlerts });
    if (report.counts.findings === 0) return done({ status: 'clean', report, ...withAlerts });
    if (!o.remediation) return done({ status: 'drifted', report, ...withAlerts });
    const choice = chooseRemediation(report, o.remediation);
    const components = [...choice.forced.keys(), ...choice.applied].sort();
    if (components.length === 0)
      return done({ status: 'drifted', report, ...withAlerts, remediation: { components, left: choice.left, ok: true } });
    const outcome = await remediate({ settings: o.settings, listener: o.listener ?? (() => undefined) }, choice).catch((err: unknown) => {
      if (err instanceof LockHeldError) return { status: 'lock-held' as const, message: err.message };
      throw err;
    });
    if (outcome.status === 'lock-held')
      return done({ status: 'skipped', reason: `a deploy started meanwhile: ${outcome.message}`, report, ...withAlerts });
    const ok = outcome.status === 'done' && outcome.summary.ok;
    return done({
      status: ok ? 'remediated' : 'failed',
      ...(ok ? {} : { reason: 'the remediation run failed (see its components)' }),
      report,
      ...withAlerts,
      remediation: { components, left: choice.left, ok },
    });
  } catch (err) {
    if (!(err instanceof DeployerError)) throw err;
    return done({ status: 'failed', reason: err.message });
  }
}
