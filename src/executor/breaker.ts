/**
 * The circuit breaker of a component (seed 003): closed while deployments succeed; open after
 * `failureThreshold` failed deployments in a row, when the component is not deployed at all;
 * half-open once `recoveryTimeout` has passed, when `halfOpenCalls` trial deployments decide —
 * one failure opens it again, all succeeding close it. Its counts live in the component's
 * state, so they hold across runs and machines. Pure: the executor applies the transitions.
 */
import type { BreakerState } from '../model/state.js';
import type { DesiredStack } from '../model/desired.js';

export type BreakerPolicy = DesiredStack['circuitBreaker'];
export type BreakerPosition = 'closed' | 'open' | 'half-open';

export function position(b: BreakerState | undefined, policy: BreakerPolicy, now: number): BreakerPosition {
  if (!policy.enabled || !b || b.failures < policy.failureThreshold) return 'closed';
  return now - Date.parse(b.openedAt ?? new Date(now).toISOString()) >= policy.recoveryTimeoutMs ? 'half-open' : 'open';
}

/** Why an open breaker refuses the deployment, with when it will allow a trial. */
export function refusal(b: BreakerState, policy: BreakerPolicy): string {
  const next = new Date(Date.parse(b.openedAt!) + policy.recoveryTimeoutMs).toISOString();
  return `circuit breaker open: ${b.failures} failed deployments in a row (open since ${b.openedAt}), so it was not deployed. A trial deployment is allowed from ${next}; to deploy it before, set the Stack's spec.circuitBreaker.enabled: false`;
}

export function afterFailure(b: BreakerState | undefined, policy: BreakerPolicy, now: number): BreakerState {
  const failures = (b?.failures ?? 0) + 1;
  const opens = failures >= policy.failureThreshold;
  // A failed trial while half-open re-opens it for a full recovery timeout.
  return { failures, ...(opens ? { openedAt: new Date(now).toISOString() } : {}) };
}

/** After a success: closed (undefined), unless more half-open trials are still due. */
export function afterSuccess(b: BreakerState | undefined, policy: BreakerPolicy, now: number): BreakerState | undefined {
  if (!b || position(b, policy, now) !== 'half-open') return undefined;
  const trials = (b.trials ?? 0) + 1;
  return trials >= policy.halfOpenCalls ? undefined : { ...b, trials };
}
