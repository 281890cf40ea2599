/**
 * What the dashboard draws from the API's answers: the timeline of deployments, the DORA tiles
 * and the stacks' locks and drift. Elements are built with DOM calls and text nodes only, never
 * from HTML strings, so nothing a record holds (a version, a lock holder's name) can become
 * markup; and styled by classes only, as the page's Content-Security-Policy allows no inline style.
 * Times are shown in UTC, as the ledger and the metrics count them.
 */
/// <reference lib="dom" />
import type { Deployment, DriftSummary, LockHolder, MetricGroup, MetricsAnswer, StackAnswer } from './api.js';

type Child = Node | string | null | undefined | false;

/** An element with a class, attributes (`data-*` among them) and children (strings become text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; attrs?: Record<string, string>; title?: string } = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.title) e.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** `2026-03-01 14:05:09 UTC` for an ISO time (as recorded; invalid ones as given). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A duration in the unit that reads best: `42 s`, `12 min`, `3.5 h`, `2.1 d`. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** A metric's value with its unit, or `n/a` when there was nothing to compute it from. */
export function formatMetric(m: Pick<MetricGroup, 'value' | 'unit'>): string {
  if (m.value === null) return 'n/a';
  if (m.unit === 'per-day') return m.value >= 1 ? `${m.value.toFixed(1)} / day` : `${(m.value * 7).toFixed(1)} / week`;
  if (m.unit === 'seconds') return formatDuration(m.value);
  return `${m.value.toFixed(1)} %`;
}

/** The five DORA keys in the order of the report, with what the tiles call them. */
export const METRICS: readonly { key: string; label: string }[] = [
  { key: 'frequency', label: 'Deployment frequency' },
  { key: 'lead-time', label: 'Lead time for changes' },
  { key: 'change-failure-rate', label: 'Change failure rate' },
  { key: 'mttr', label: 'Failed deployment recovery time' },
  { key: 'success-rate', label: 'Success rate' },
];

/** Replaces the rows of `tbody` with one per deployment (newest first, as the API lists them). */
export function renderTimeline(tbody: HTMLElement, deployments: readonly Deployment[]): void {
  // Drift checks are records of the ledger but nothing was deployed: the stacks table shows them.
  const shown = deployments.filter((d) => d.operation !== 'drift');
  tbody.replaceChildren(
    ...shown.map((d) =>
      h(
        'tr',
        {
          class: 'deployment',
          attrs: {
            'data-id': d.id,
            'data-stack': d.stack,
            'data-service': d.service,
            'data-environment': d.environment,
            'data-status': d.status,
          },
        },
        [
          h('td', { class: 'time', title: d.completed ? `completed ${formatTime(d.completed)}` : 'not completed' }, [
            formatTime(d.started),
          ]),
          h('td', { class: 'what' }, [h('span', { class: 'stack' }, [d.stack]), ' / ', h('span', { class: 'service' }, [d.service])]),
          h('td', { class: 'environment' }, [d.environment]),
          h('td', { class: 'version' }, [d.version]),
          h('td', { class: 'type' }, [d.type, d.operation && d.operation !== 'deploy' ? ` (${d.operation})` : '']),
          h('td', {}, [h('span', { class: `status status-${d.status}` }, [d.status])]),
        ],
      ),
    ),
  );
  if (shown.length === 0)
    tbody.append(h('tr', { class: 'empty' }, [h('td', { attrs: { colspan: '6' } }, ['No deployments recorded yet.'])]));
}

/** Replaces the tiles in `container` with one per DORA metric: value, unit and band, coloured by band. */
export function renderTiles(container: HTMLElement, answer: MetricsAnswer): void {
  container.replaceChildren(
    ...METRICS.map(({ key, label }) => {
      // Ungrouped, the API answers one group (`all`) per metric.
      const m = answer.metrics[key]?.[0];
      const band = m?.band ?? 'none';
      return h('div', { class: `tile band-${band}`, attrs: { 'data-metric': key, 'data-band': band }, title: m?.notes.join('\n') ?? '' }, [
        h('div', { class: 'label' }, [label]),
        h('div', { class: 'value' }, [m ? formatMetric(m) : 'n/a']),
        h('div', { class: 'band' }, [m?.band ?? 'no band']),
        h('div', { class: 'counted' }, [m ? `from ${m.counted}` : '']),
      ]);
    }),
  );
}

/** What a lock cell says: free, or who holds it since when, and whether it expired. */
export function lockCell(lock: LockHolder | null): HTMLElement {
  if (!lock) return h('td', { class: 'lock lock-free', attrs: { 'data-lock': 'free' } }, ['free']);
  return h(
    'td',
    {
      class: `lock ${lock.expired ? 'lock-expired' : 'lock-held'}`,
      attrs: { 'data-lock': lock.expired ? 'expired' : 'held' },
      title: `lock id ${lock.lockId}`,
    },
    [
      'held by ',
      h('strong', { class: 'holder' }, [lock.lockedBy]),
      ` since ${formatTime(lock.lockedAt)}`,
      lock.metadata?.['operation'] ? ` (${lock.metadata['operation']})` : '',
      lock.expired
        ? h('span', { class: 'badge expired' }, [`expired ${formatTime(lock.expiresAt)}`])
        : ` until ${formatTime(lock.expiresAt)}`,
    ],
  );
}

/** How many components a drift check found drifted: those its services' findings name, else its count of findings. */
export function driftedCount(drift: DriftSummary): number {
  const named = drift.services.flatMap((s) => (Array.isArray(s.drift.report) ? s.drift.report : []));
  if (named.length > 0) return new Set(named.map((f) => f.component ?? '?')).size;
  return drift.findings;
}

/** What a drift cell says: never checked, or when, how many components drifted, and how the check ended. */
export function driftCell(drift: DriftSummary | null): HTMLElement {
  if (!drift) return h('td', { class: 'drift', attrs: { 'data-drift': 'none' } }, ['never checked']);
  const n = driftedCount(drift);
  const reason = drift.services.map((s) => s.drift.reason).find(Boolean);
  return h('td', { class: `drift ${n > 0 ? 'drift-found' : 'drift-clean'}`, attrs: { 'data-drift': String(n) }, title: reason ?? '' }, [
    `${formatTime(drift.at)}: `,
    h('strong', {}, [n === 0 ? 'no drift' : `${n} drifted`]),
    ` of ${drift.components} (${drift.findings} finding(s)${drift.critical ? `, ${drift.critical} critical` : ''})`,
    drift.cycle === 'failed' ? h('span', { class: 'badge failed' }, ['check failed']) : ` · ${drift.cycle}`,
  ]);
}

/** Replaces the rows of `tbody` with one per stack and environment. */
export function renderStacks(tbody: HTMLElement, stacks: readonly StackAnswer[]): void {
  tbody.replaceChildren(
    ...stacks.flatMap((s) =>
      s.environments.map((e) =>
        h('tr', { class: 'stack-env', attrs: { 'data-stack': s.name, 'data-environment': e.name } }, [
          h('td', {}, [s.name]),
          h('td', {}, [e.name]),
          lockCell(e.lock),
          driftCell(e.drift),
        ]),
      ),
    ),
  );
  if (stacks.length === 0) tbody.append(h('tr', { class: 'empty' }, [h('td', { attrs: { colspan: '4' } }, ['No stacks are served.'])]));
}

/** Fills a select with `values`, keeping the current choice when it is still offered. */
export function fillSelect(select: HTMLSelectElement, values: readonly string[]): void {
  const before = select.value;
  select.replaceChildren(...values.map((v) => h('option', { attrs: { value: v } }, [v])));
  if (values.includes(before)) select.value = before;
}
