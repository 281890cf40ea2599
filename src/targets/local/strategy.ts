/**
 * A MicroService's `spec.strategy` turned into a RolloutStrategy with every parameter decided,
 * so the provider and the supervisor never guess. The defaults are the documented ones
 * (docs/local-target.md, "Deployment strategies").
 */
import { durationMs } from '../../util/duration.js';
import type { RolloutStrategy } from './protocol.js';

export const STRATEGY_DEFAULTS = {
  type: 'rolling',
  maxSurge: 1,
  maxUnavailable: 0,
  canaryPercentage: 10,
  bakeTime: '30s',
  maxErrorRate: 5,
  terminationWait: '0s',
  timeout: '5m',
} as const;

/** A count or a percentage of `replicas` ("25%" of 4 = 1), rounded down as Kubernetes does for maxUnavailable. */
export function countOf(value: unknown, replicas: number, fallback: number, roundUp = false): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const pct = Number(String(value).replace('%', ''));
  const exact = (replicas * pct) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

interface StrategySpec {
  type?: RolloutStrategy['type'];
  maxUnavailable?: number | string;
  maxSurge?: number | string;
  canary?: {
    percentage?: number;
    steps?: Array<{ percentage: number; bakeTime?: string | number }>;
    bakeTime?: string | number;
    maxErrorRate?: number;
  };
  blueGreen?: { terminationWait?: string | number };
  timeout?: string | number;
}

export function decideStrategy(spec: StrategySpec | undefined, replicas: number): RolloutStrategy {
  const s = spec ?? {};
  const canary = s.canary ?? {};
  const bake = durationMs(canary.bakeTime, STRATEGY_DEFAULTS.bakeTime);
  const steps = canary.steps
    ? canary.steps.map((step) => ({
        percentage: step.percentage,
        bakeMs: step.bakeTime === undefined ? bake : durationMs(step.bakeTime, STRATEGY_DEFAULTS.bakeTime),
      }))
    : [{ percentage: canary.percentage ?? STRATEGY_DEFAULTS.canaryPercentage, bakeMs: bake }];
  const maxUnavailable = countOf(s.maxUnavailable, replicas, STRATEGY_DEFAULTS.maxUnavailable);
  // Nothing may be both unavailable and not surging: one of them must let the rollout move.
  const maxSurge = Math.max(countOf(s.maxSurge, replicas, STRATEGY_DEFAULTS.maxSurge, true), maxUnavailable > 0 ? 0 : 1);
  return {
    type: s.type ?? STRATEGY_DEFAULTS.type,
    maxUnavailable,
    maxSurge,
    steps: steps.filter((step) => step.percentage < 100),
    maxErrorRate: canary.maxErrorRate ?? STRATEGY_DEFAULTS.maxErrorRate,
    terminationWaitMs: durationMs(s.blueGreen?.terminationWait, STRATEGY_DEFAULTS.terminationWait),
    timeoutMs: durationMs(s.timeout, STRATEGY_DEFAULTS.timeout),
  };
}

/**
 * How a rollback deploys a version that no longer serves (one that still serves is adopted by
 * the supervisor without any rollout): the whole set at once beside what serves, then one
 * switch — no canary steps, no bake, no waiting before the new version's processes stop, and
 * never big-bang's stop-first, whatever the component's own strategy.
 */
export function rollbackStrategy(s: RolloutStrategy): RolloutStrategy {
  return { ...s, type: 'blue-green', steps: [], terminationWaitMs: 0 };
}

/** How long a whole rollout may take: its timeout, plus bake and termination waits. */
export function rolloutBudgetMs(s: RolloutStrategy): number {
  return s.timeoutMs + s.terminationWaitMs + (s.type === 'canary' ? s.steps.reduce((t, step) => t + step.bakeMs, 0) : 0);
}
