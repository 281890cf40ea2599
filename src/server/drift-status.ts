/**
 * The last drift report of a stack's environment, as the ledger keeps it: a reconcile cycle
 * records one drift record per service (reconcile/ledger-records.ts), all with the cycle's run
 * id, so the last report is the newest drift record and its siblings of the same cycle.
 */
import { DRIFT_TYPE, type LedgerStore } from '../ledger/index.js';

/** A cycle's findings summed over its services. */
export interface LastDrift {
  at: string;
  /** The cycle's result: `drift` (found), `clean`, `failed` ... as reconcile recorded it. */
  cycle: string;
  /** Components checked, those found drifted, the findings, and how many of them critical. */
  components: number;
  drifted: number;
  findings: number;
  critical: number;
  /** Each service's record's drift details (the report's first findings). */
  services: { service: string; drift: Record<string, unknown> }[];
}

export async function lastDrift(ledger: LedgerStore, stack: string, environment: string): Promise<LastDrift | null> {
  const [newest] = await ledger.listDeployments({ stack, environment, type: DRIFT_TYPE, limit: 1 });
  if (!newest) return null;
  const cycle = newest.parentId ? await ledger.listDeployments({ parentId: newest.parentId, type: DRIFT_TYPE }) : [newest];
  const details = cycle.map((d) => ({ service: d.service, drift: (d.metadata['drift'] ?? {}) as Record<string, unknown> }));
  const sum = (key: string): number => details.reduce((n, d) => n + (typeof d.drift[key] === 'number' ? (d.drift[key] as number) : 0), 0);
  return {
    at: newest.completed ?? newest.started,
    cycle: String(details[0]?.drift['cycle'] ?? newest.status),
    components: sum('components'),
    // Records written before `drifted` was kept: each finding names its component.
    drifted: details.reduce((n, d) => n + driftedOf(d.drift), 0),
    findings: sum('findings'),
    critical: sum('critical'),
    services: details.sort((a, b) => a.service.localeCompare(b.service)),
  };
}

/** A record's drifted components: as it counted them, or (a record made before it did) the components its findings name. */
function driftedOf(drift: Record<string, unknown>): number {
  if (typeof drift['drifted'] === 'number') return drift['drifted'];
  const findings = Array.isArray(drift['report']) ? (drift['report'] as { component?: unknown }[]) : [];
  return new Set(findings.map((f) => f.component).filter((c) => typeof c === 'string')).size;
}
