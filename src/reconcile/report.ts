/**
 * Drift, found by comparing three things per component (issue 14): desired (the YAML now),
 * recorded (deployer's state and the Pulumi checkpoint) and actual (what a refresh reads now).
 * Pure: the workflow (drift.ts) gathers the three, these functions say what differs, how badly,
 * and what the ignore rules leave out.
 *
 * Kinds of drift:
 *   configuration  the YAML says something the last apply did not deploy (reported, applied by `apply`)
 *   resource       the real thing was changed behind deployer's back
 *   missing        the real thing is gone (deleted out of band)
 *   pending        a killed run left an operation pending on the component's Pulumi stack
 */
import { STATEFUL_KINDS } from '../discovery/policies.js';
import type { PlanAction } from '../model/plan.js';
import { changedPaths } from '../plan/index.js';
import { isSecretName } from '../model/secret-names.js';
import type { DriftIgnoreRule } from '../model/desired.js';
import type { ComponentKind } from '../model/documents.js';

export type DriftKind = 'configuration' | 'resource' | 'missing' | 'pending';
export type DriftSeverity = 'critical' | 'warning';

/** One difference, at one property of one component. */
export interface DriftFinding {
  component: string;
  kind: DriftKind;
  /** Dotted property path (`spec.env.GREETING` for the YAML, `env.GREETING` for a resource); empty for the whole component. */
  path: string;
  /** What the configuration asks for now (undefined: nothing, or not known). */
  expected?: unknown;
  /** What deployer recorded when it last deployed it. */
  recorded?: unknown;
  /** What is really there now (undefined: nothing). */
  actual?: unknown;
  severity: DriftSeverity;
  message: string;
  /** Configuration drift: what `deployer apply` would do to the component. */
  action?: Exclude<PlanAction['action'], 'no-op'>;
}

/** Properties that open or weaken access: drift of them is critical whatever the kind. */
const SECURITY_WORDS =
  /(^|\.)(publicAccess|public|encryption|encrypted|kms[A-Za-z]*|policy|acl|cors|iam[A-Za-z]*|securityGroups?|ingress|tls|ssl)(\.|$)/i;

/** How bad a difference is: deleted things, stateful kinds and security-relevant properties are critical. */
export function severityOf(kind: ComponentKind | string, driftKind: DriftKind, path: string): DriftSeverity {
  if (driftKind === 'missing' || STATEFUL_KINDS.has(kind) || SECURITY_WORDS.test(path)) return 'critical';
  return 'warning';
}

/** What shows in place of a secret's value: never the value, in a report, the ledger or a webhook. */
export const SECRET_SHOWN = '(secret)';

/** How Pulumi's engine events show a secret value. */
const PULUMI_SECRET = '[secret]';

/** The value at a dotted path, or undefined. */
export function valueAt(value: unknown, path: string): unknown {
  if (path === '') return value;
  let at: unknown = value;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON pointer (`/env/GREETING`) as a dotted path (`env.GREETING`). */
export function dottedOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

/** The dotted paths at which two values differ (leaves, and keys only one of them has): the plan's comparison of specs. */
export function differingPaths(a: unknown, b: unknown): string[] {
  return changedPaths(a, b).map(dottedOf);
}

/** Whether a spec value is a reference to a secret (`{secretRef: ...}`): its value is never shown. */
export const isSecretRef = (v: unknown): boolean => isObject(v) && 'secretRef' in v;

/** What `deployer apply` does to a component, in the words of a finding. */
const APPLY_DOES = { create: 'creates', update: 'updates', replace: 'replaces', delete: 'deletes' } as const;

/** The configuration drift of one component: what its plan action says `apply` would change. */
export function configurationDrift(
  action: Pick<PlanAction, 'id' | 'kind' | 'action' | 'reason' | 'changes'>,
  desiredSpec: Record<string, unknown> | undefined,
  recordedSpec: Record<string, unknown> | undefined,
): DriftFinding[] {
  if (action.action === 'no-op') return [];
  const base = { component: action.id, kind: 'configuration' as const, action: action.action };
  const severity = severityOf(action.kind, 'configuration', '');
  const does = `\`deployer apply\` ${APPLY_DOES[action.action]} it`;
  if (action.action === 'create')
    return [{ ...base, path: '', severity, message: `in the configuration, not deployed (${action.reason}): ${does}` }];
  if (action.action === 'delete') return [{ ...base, path: '', severity, message: `deployed, but ${action.reason}: ${does}` }];
  if (action.changes.length === 0) return [{ ...base, path: '', severity, message: `${action.reason}: ${does}` }];
  return action.changes.map((pointer) => {
    const path = dottedOf(pointer);
    const expected = valueAt(desiredSpec, path);
    const recorded = valueAt(recordedSpec, path);
    const secret = isSecretRef(expected) || isSecretRef(recorded);
    return {
      ...base,
      path: `spec.${path}`,
      ...(expected === undefined ? {} : { expected: secret ? SECRET_SHOWN : expected }),
      ...(recorded === undefined ? {} : { recorded: secret ? SECRET_SHOWN : recorded }),
      severity: severityOf(action.kind, 'configuration', path),
      message: `changed in the configuration, not applied: ${does}`,
    };
  });
}

/**
 * Outputs that say whether a thing is alive rather than how it is configured (the local
 * target's MicroService reports them): false is an outage, critical, said in words.
 */
const LIVENESS: Record<string, string> = {
  running: 'is not running: its processes are gone',
  healthy: 'does not answer its health check',
};

/** One resource of a component's stack as its checkpoint records it and as a refresh reads it. */
export interface ResourceReading {
  name: string;
  type: string;
  change: 'same' | 'changed' | 'gone';
  recorded: Record<string, unknown>;
  actual: Record<string, unknown> | undefined;
}

/**
 * The resource drift of one component: each property of its resources whose recorded value is
 * not what is there now (`volatile` ones, such as a pid, change without drifting), or the whole
 * resource when it is gone. `expected` is the configuration's value of a property the spec
 * names alike (`env.GREETING`, `port`, `versioning`), resolved; `secret(path)` says a value
 * is a secret's, shown as SECRET_SHOWN.
 */
export function resourceDrift(
  component: { id: string; kind: string },
  resources: readonly ResourceReading[],
  o: { resolvedSpec?: Record<string, unknown>; volatile: ReadonlySet<string>; secret: (path: string) => boolean },
): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const base = { component: component.id };
  for (const r of resources) {
    if (r.change === 'gone' || r.actual === undefined) {
      findings.push({
        ...base,
        kind: 'missing',
        path: '',
        severity: severityOf(component.kind, 'missing', ''),
        message: `${r.type.split(':').pop()} ${r.name} is gone (deleted behind deployer's back)`,
      });
      continue;
    }
    const keep = (v: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(v).filter(([k]) => !o.volatile.has(k)));
    // Stopped through `deployer stop` (local): not running on purpose, which is no drift.
    const stoppedOnPurpose = typeof r.actual['stopped'] === 'string';
    const breaker = r.actual['circuitBreaker'];
    const paths = differingPaths(keep(r.recorded), keep(r.actual)).filter((p) => p !== 'stopped' && p !== 'circuitBreaker');
    if (typeof breaker === 'string') {
      // Its processes kept dying and the supervisor stopped restarting them: that says why it is down.
      findings.push({
        ...base,
        kind: 'resource',
        path: 'circuitBreaker',
        actual: 'open',
        severity: 'critical',
        message: `${r.type.split(':').pop()} ${r.name}: ${breaker}`,
      });
    }
    const down = stoppedOnPurpose || typeof breaker === 'string' ? [] : paths.filter((p) => p in LIVENESS && r.actual![p] === false);
    if (down.length > 0) {
      // Not running says it all: its health is not news then.
      const what = down.includes('running') ? 'running' : down[0]!;
      findings.push({
        ...base,
        kind: 'resource',
        path: what,
        ...(r.recorded[what] === undefined ? {} : { recorded: r.recorded[what] }),
        actual: false,
        severity: 'critical',
        message: `${r.type.split(':').pop()} ${r.name} ${LIVENESS[what]}`,
      });
    }
    const killed = r.actual['oomKills'];
    if (paths.includes('oomKills') && typeof killed === 'number' && killed > 0) {
      // Not a setting that moved: processes that died for memory, which a restart hid.
      findings.push({
        ...base,
        kind: 'resource',
        path: 'oomKills',
        actual: killed,
        severity: 'warning',
        message: `${r.type.split(':').pop()} ${r.name} had ${killed} process(es) killed by the kernel for going over its memory limit`,
      });
    }
    for (const path of paths.filter((p) => !(p in LIVENESS) && p !== 'oomKills')) {
      // Pulumi shows a secret output as this in its events; its value is never ours to show.
      // A value added behind deployer's back under a secret's name is a secret too.
      const secret =
        o.secret(path) ||
        isSecretName(path.split('.').at(-1)!) ||
        valueAt(r.recorded, path) === PULUMI_SECRET ||
        valueAt(r.actual, path) === PULUMI_SECRET;
      const shown = (v: unknown): unknown => (secret && v !== undefined ? SECRET_SHOWN : v);
      const expected = valueAt(o.resolvedSpec, path);
      findings.push({
        ...base,
        kind: 'resource',
        path,
        ...(expected === undefined ? {} : { expected: shown(expected) }),
        ...(valueAt(r.recorded, path) === undefined ? {} : { recorded: shown(valueAt(r.recorded, path)) }),
        ...(valueAt(r.actual, path) === undefined ? {} : { actual: shown(valueAt(r.actual, path)) }),
        severity: severityOf(component.kind, 'resource', path),
        message: `${path} was changed behind deployer's back`,
      });
    }
  }
  return findings;
}

/** A killed run's operations left pending on the component's stack. */
export function pendingDrift(
  component: { id: string; kind: string },
  pending: ReadonlyArray<{ urn: string; operation: string }>,
): DriftFinding[] {
  return pending.map((p) => ({
    component: component.id,
    kind: 'pending',
    path: '',
    severity: severityOf(component.kind, 'pending', ''),
    message: `an interrupted run left ${p.urn.split('::').pop()} pending (${p.operation}): the next \`deployer apply\` refreshes it first`,
  }));
}

/** `*` of a glob: any run of characters but the separator. */
function globRegExp(glob: string, separator: string): RegExp {
  const sep = separator.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join(`[^${sep}]*`);
  return new RegExp(`^${body}$`);
}

/** Whether a rule leaves `f` out: its component matches, and its path (if any) is the finding's or above it. */
export function ignoredBy(rule: DriftIgnoreRule, f: Pick<DriftFinding, 'component' | 'path'>): boolean {
  if (!globRegExp(rule.component, '/').test(f.component)) return false;
  if (rule.path === undefined) return true;
  const want = rule.path.split('.');
  const have = f.path === '' ? [] : f.path.split('.');
  if (have.length < want.length) return false;
  return want.every((segment, i) => globRegExp(segment, '.').test(have[i]!));
}

/** Findings split into those reported and those the Stack's ignore rules leave out. */
export function applyIgnoreRules(
  findings: readonly DriftFinding[],
  rules: readonly DriftIgnoreRule[],
): { kept: DriftFinding[]; ignored: number } {
  const kept = findings.filter((f) => !rules.some((r) => ignoredBy(r, f)));
  return { kept, ignored: findings.length - kept.length };
}
