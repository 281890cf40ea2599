/**
 * Auto-remediation (opt in, `reconcile --auto-remediate`): which drifted components a cycle
 * brings back, and the locked run that does it. A remediation is an apply through the normal
 * executor (the same lock, hooks, verification and automatic rollback) of the components
 * chosen, each forced to deploy though its YAML did not change, its Pulumi stack refreshed
 * first so that Pulumi compares the program with what really exists. Never deletes, replaces or
 * recreates a stateful kind without `allowDestructive`; configuration drift (YAML not applied)
 * is left alone without `applyConfigDrift`, and so is a component that has both.
 */
import { STATEFUL_KINDS } from '../discovery/policies.js';
import type { Plan } from '../model/plan.js';
import { computePlan, restrictPlan } from '../plan/index.js';
import { runLocked } from '../workflows/locked-run.js';
import type { RunContext, RunOutcome } from '../workflows/context.js';
import type { DriftReport } from './drift.js';

export interface RemediationPolicy {
  /** Delete, replace or recreate a stateful kind (RDS, DynamoDB, S3, EFS ...) when drift asks for it. */
  allowDestructive: boolean;
  /** Apply configuration drift (YAML changed, not applied) too. */
  applyConfigDrift: boolean;
}

/** What a cycle will bring back, and what it leaves as reported, with why. */
export interface RemediationChoice {
  /** Components forced to deploy, their stacks refreshed first: id -> the plan's reason. */
  forced: Map<string, string>;
  /** Components whose configuration drift is applied (applyConfigDrift). */
  applied: Set<string>;
  left: Array<{ id: string; reason: string }>;
}

/** Chooses what to remediate of a report; pure. */
export function chooseRemediation(report: DriftReport, policy: RemediationPolicy): RemediationChoice {
  const choice: RemediationChoice = { forced: new Map(), applied: new Set(), left: [] };
  for (const c of report.components) {
    if (c.findings.length === 0) continue;
    const stateful = STATEFUL_KINDS.has(c.kind);
    const config = c.findings.filter((f) => f.kind === 'configuration');
    const real = c.findings.filter((f) => f.kind !== 'configuration');
    const leave = (reason: string): void => void choice.left.push({ id: c.id, reason });
    if (config.length > 0 && !policy.applyConfigDrift) {
      leave(
        real.length > 0
          ? 'its configuration changed too: bringing it back would apply the YAML (--apply-config-drift allows it)'
          : 'configuration drift is reported, not applied (--apply-config-drift applies it)',
      );
      continue;
    }
    const destructive = real.some((f) => f.kind === 'missing') || config.some((f) => f.action === 'delete' || f.action === 'replace');
    if (stateful && destructive && !policy.allowDestructive) {
      leave(`a ${c.kind} holds data: it is not deleted, replaced or recreated without --allow-destructive`);
      continue;
    }
    if (real.length > 0) choice.forced.set(c.id, `drift: ${real.map((f) => f.path || f.kind).join(', ')}`);
    else choice.applied.add(c.id);
  }
  return choice;
}

/** The remediation plan: the forced components deployed, and the configuration changes chosen; nothing else. */
export function remediationPlan(base: Plan, choice: RemediationChoice): Plan {
  return restrictPlan(base, [...choice.forced.keys(), ...choice.applied]);
}

/** Carries out a choice as a locked apply (LockHeldError when a deploy holds the stack). */
export function remediate(ctx: RunContext, choice: RemediationChoice): Promise<RunOutcome> {
  return runLocked({ ...ctx, remediate: choice.forced }, 'apply', (loaded, state) => ({
    plan: remediationPlan(computePlan(loaded.desired, state, loaded.graph, choice.forced), choice),
    desired: loaded.desired,
    graph: loaded.graph,
  }));
}
