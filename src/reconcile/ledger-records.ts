/**
 * Every reconcile cycle in the ledger (issue 14: "a drift run with its counts and the report"):
 * one drift record per service of the stack (operation `drift`, type DRIFT_TYPE, counted in no
 * metric), in one write, with the cycle's outcome, its counts and the service's findings (their
 * values redacted as the report has them). A remediation's apply is recorded as any apply.
 */
import { randomUUID } from 'node:crypto';
import type { Settings } from '../config/index.js';
import { DRIFT_TYPE, openLedger, type DeploymentEvent } from '../ledger/index.js';
import { whoAmI } from '../lock/index.js';
import type { DesiredStack } from '../model/desired.js';
import { openStateStore } from '../state/index.js';
import { serviceVersion } from '../workflows/restore.js';
import type { CycleResult } from './loop.js';

/** At most this many findings of a service are kept in its record; the counts say how many there were. */
const FINDINGS_KEPT = 50;

/** Processes of the service the kernel killed for memory (local target), as its findings say: kept as a count of its own. */
function oomKillsOf(findings: ReadonlyArray<{ path: string; actual?: unknown }>): { oomKills?: number } {
  const killed = findings
    .filter((f) => f.path === 'oomKills' && typeof f.actual === 'number')
    .reduce((n, f) => n + (f.actual as number), 0);
  return killed > 0 ? { oomKills: killed } : {};
}

/** The records of one cycle, one per service; pure. */
export function driftRecords(
  desired: Pick<DesiredStack, 'name' | 'environment' | 'services'>,
  versionOf: (service: string) => string,
  result: CycleResult,
  initiator: string,
  runId: string,
): DeploymentEvent[] {
  const completed = new Date(Date.parse(result.startedAt) + result.durationMs).toISOString();
  return [...desired.services.keys()].sort().map((service) => {
    const mine = (result.report?.components ?? []).filter((c) => c.id.startsWith(`${service}/`));
    const findings = mine.flatMap((c) => c.findings);
    const remediated = result.remediation?.components.filter((id) => id.startsWith(`${service}/`)) ?? [];
    const left = result.remediation?.left.filter((l) => l.id.startsWith(`${service}/`)) ?? [];
    return {
      id: randomUUID(),
      stack: desired.name,
      service,
      version: versionOf(service),
      environment: desired.environment,
      type: DRIFT_TYPE,
      started: result.startedAt,
      completed,
      status: result.status === 'failed' ? 'failed' : 'success',
      initiator,
      metadata: {
        operation: 'drift',
        drift: {
          cycle: result.status,
          ...(result.reason ? { reason: result.reason } : {}),
          components: mine.length,
          drifted: mine.filter((c) => c.status === 'drifted').length,
          findings: findings.length,
          critical: findings.filter((f) => f.severity === 'critical').length,
          ignored: mine.reduce((n, c) => n + c.ignored, 0),
          ...oomKillsOf(findings),
          ...(remediated.length > 0 ? { remediated } : {}),
          ...(left.length > 0 ? { left } : {}),
          report: findings.slice(0, FINDINGS_KEPT),
        },
      },
      parentId: runId,
      operation: 'drift',
    };
  });
}

/** Writes a cycle's records to the ledger the settings name. */
export async function recordCycle(settings: Settings, desired: DesiredStack, result: CycleResult): Promise<void> {
  const state = await openStateStore(settings.stateUrl, settings.dir).read(desired.name, desired.environment);
  const ledger = openLedger(settings.ledger);
  try {
    const records = driftRecords(desired, (s) => serviceVersion(state?.components ?? {}, s), result, whoAmI(), randomUUID());
    await ledger.recordMany({ deployments: records });
  } finally {
    await ledger.close();
  }
}
