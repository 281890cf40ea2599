/**
 * `deployer ledger visualize`: the ledger drawn (seed 001 "Generate visual deployment
 * timelines"). A Mermaid gantt timeline of deployments (a bar from start to end, one section per
 * service and environment) and rollbacks (milestones), and the services' dependency graph, as
 * Graphviz dot or a Mermaid flowchart, each service annotated with its last version and status.
 * Pure: the caller chooses the records and where the services' dependencies come from.
 */
import type { DeploymentEvent, DeploymentStatus, RollbackEvent } from './store.js';
import type { LedgerRecords } from './export.js';

/** A service of the dependency graph: what it depends on, and what the ledger last says of it. */
export interface ServiceNode {
  name: string;
  dependsOn: string[];
  /** Who is responsible for it, when the stack or its last deployment says. */
  owner?: string;
  lastVersion?: string;
  lastStatus?: DeploymentStatus;
}

/** Mermaid's task syntax separates fields by `:` and `,` and ends a line at `#` or `;`: those are left out of names. */
const taskName = (s: string): string => s.replace(/[:;#,\r\n]+/g, ' ').trim();

/** The tags of a deployment's bar: done, failed (crit), active (in progress). */
const TAGS: Record<DeploymentStatus, string> = {
  pending: 'active',
  success: 'done',
  failed: 'crit',
  'rolled-back': 'crit',
  'in-progress': 'active',
};

/**
 * The timeline as a Mermaid gantt chart. Times are epoch milliseconds (`dateFormat x`), so no
 * date format or time zone can be misread; an in-progress deployment's bar ends at `now`.
 */
export function timelineMermaid(records: LedgerRecords, now: string): string {
  const sections = new Map<string, string[]>();
  const add = (service: string, environment: string, line: string): void => {
    const key = `${service} (${environment})`;
    sections.set(key, [...(sections.get(key) ?? []), line]);
  };
  let n = 0;
  const byStart = (a: DeploymentEvent, b: DeploymentEvent): number => (a.started < b.started ? -1 : a.started > b.started ? 1 : 0);
  for (const d of [...records.deployments].sort(byStart)) {
    const end = Date.parse(d.completed ?? now);
    const name = taskName(`${d.version} ${d.type} ${d.status}`);
    add(
      d.service,
      d.environment,
      `    ${name}:${TAGS[d.status]}, t${++n}, ${Date.parse(d.started)}, ${Math.max(end, Date.parse(d.started))}`,
    );
  }
  const byTime = (a: RollbackEvent, b: RollbackEvent): number => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
  for (const r of [...records.rollbacks].sort(byTime)) {
    add(
      r.service,
      r.environment,
      `    ${taskName(`rollback ${r.fromVersion} to ${r.toVersion}`)}:milestone, t${++n}, ${Date.parse(r.at)}, 0ms`,
    );
  }
  const lines = ['gantt', '    title Deployments and rollbacks', '    dateFormat x', '    axisFormat %Y-%m-%d %H:%M'];
  for (const key of [...sections.keys()].sort()) lines.push(`    section ${taskName(key)}`, ...sections.get(key)!);
  return lines.join('\n') + '\n';
}

/** The services of `deployments` with the last version and status the ledger records of each, and the dependencies its last deployment recorded. */
export function servicesFromLedger(deployments: readonly DeploymentEvent[]): ServiceNode[] {
  const last = new Map<string, DeploymentEvent>();
  for (const d of deployments) {
    const seen = last.get(d.service);
    if (!seen || d.started > seen.started || (d.started === seen.started && d.id > seen.id)) last.set(d.service, d);
  }
  return [...last.values()]
    .map((d) => ({
      name: d.service,
      dependsOn: recordedDependencies(d),
      ...(typeof d.metadata['owner'] === 'string' ? { owner: d.metadata['owner'] } : {}),
      lastVersion: d.version,
      lastStatus: d.status,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The `depends_on` list deployer's own deployments carry in their metadata (others may record it too). */
function recordedDependencies(d: DeploymentEvent): string[] {
  const deps = d.metadata['depends_on'];
  return Array.isArray(deps) ? deps.filter((x): x is string => typeof x === 'string') : [];
}

/** `services` (from the stack) annotated with what `fromLedger` says of each; a service only in one of them is kept. */
export function annotate(services: readonly ServiceNode[], fromLedger: readonly ServiceNode[]): ServiceNode[] {
  const recorded = new Map(fromLedger.map((s) => [s.name, s]));
  return services.map((s) => {
    const r = recorded.get(s.name);
    return {
      ...s,
      ...(!s.owner && r?.owner ? { owner: r.owner } : {}),
      ...(r?.lastVersion ? { lastVersion: r.lastVersion } : {}),
      ...(r?.lastStatus ? { lastStatus: r.lastStatus } : {}),
    };
  });
}

const COLORS: Record<DeploymentStatus, string> = {
  pending: 'lightyellow',
  success: 'palegreen',
  failed: 'lightpink',
  'rolled-back': 'orange',
  'in-progress': 'lightblue',
};
/** A dot ID: in a quoted string only `\"` is an escape (a trailing backslash would swallow the quote, so it is dropped). */
const dotId = (s: string): string => `"${s.replace(/\\+$/, '').replace(/"/g, '\\"')}"`;
/** A dot label (an escString: a backslash starts an escape such as \n, so one of the name's own is doubled). */
const dotLabel = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
const annotation = (s: ServiceNode): string =>
  (s.lastVersion ? `${s.lastVersion} (${s.lastStatus})` : 'never deployed') + (s.owner ? `, owner ${s.owner}` : '');

/** `services` and, after them, each service one of them depends on that is not among them (never deployed, as far as this is told). */
function withDependencies(services: readonly ServiceNode[]): ServiceNode[] {
  const known = new Set(services.map((s) => s.name));
  const missing = [...new Set(services.flatMap((s) => s.dependsOn))].filter((d) => !known.has(d)).sort();
  return [...services, ...missing.map((name) => ({ name, dependsOn: [] }))];
}

/** The services' dependency graph in Graphviz dot: an edge from a service to each it depends on. */
export function dependenciesDot(given: readonly ServiceNode[]): string {
  const services = withDependencies(given);
  const lines = ['digraph services {', '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fillcolor=white];'];
  for (const s of services) {
    const color = s.lastStatus ? `, fillcolor=${COLORS[s.lastStatus]}` : '';
    lines.push(`  ${dotId(s.name)} [label=${dotLabel(`${s.name}\n${annotation(s)}`)}${color}];`);
  }
  for (const s of services) for (const dep of s.dependsOn) lines.push(`  ${dotId(s.name)} -> ${dotId(dep)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The same graph as a Mermaid flowchart. */
export function dependenciesMermaid(given: readonly ServiceNode[]): string {
  const services = withDependencies(given);
  const ids = new Map<string, string>();
  const id = (name: string): string => {
    if (!ids.has(name)) ids.set(name, `s${ids.size + 1}`);
    return ids.get(name)!;
  };
  const label = (s: string): string => s.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const s of services) lines.push(`    ${id(s.name)}["${label(s.name)}<br/>${label(annotation(s))}"]`);
  for (const s of services) for (const dep of s.dependsOn) lines.push(`    ${id(s.name)} --> ${id(dep)}`);
  return lines.join('\n') + '\n';
}
