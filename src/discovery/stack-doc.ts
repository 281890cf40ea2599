/**
 * The Stack document decides the rest of discovery: which environment is built (and whether
 * `--stack` names this stack), the variables and readable env vars, the target, the lock level,
 * and the rollback and circuit-breaker policies.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../errors.js';
import { STACK_POLICY_DEFAULTS, type DesiredStack, type LockLevel, type RegionSpec, type TargetName } from '../model/desired.js';
import { durationMs } from '../util/duration.js';
import { yamlLib } from '../util/yaml-lib.js';
import type { VariableScope, VariableValue } from './interpolate.js';
import type { SourceDoc } from './read-documents.js';
import { stripBom } from './parse.js';
import type { Problems } from './problems.js';
import { labelOf, validateData, type SchemaSet } from './validate.js';

type Spec = Record<string, unknown>;

/** The first Stack document of the directory; none is a problem that ends discovery, a second is reported. */
export function findStackDocument(
  baseDocs: SourceDoc[],
  dirShown: string,
  problems: Problems,
): { stackDoc: SourceDoc; extra: SourceDoc[] } {
  const stackDocs = baseDocs.filter((d) => (d.data as { kind?: unknown } | null)?.kind === 'Stack');
  if (stackDocs.length === 0) {
    problems.addLocated({
      location: { file: dirShown, line: 1, col: 1 },
      path: '',
      message: 'no Stack document found (kind: Stack, usually in stack.yaml)',
      rule: 'stack',
    });
    problems.fail();
  }
  return { stackDoc: stackDocs[0]!, extra: stackDocs.slice(1) };
}

/** `--stack` names the stack the user means; refuse to act on another one (exit 2, nothing touched). */
export function checkStackName(expected: string | undefined, stackDoc: SourceDoc): void {
  const actual = (stackDoc.data as { metadata?: { name?: unknown } }).metadata?.name;
  if (expected !== undefined && expected !== actual) {
    throw new InvalidInputError(
      `--stack ${expected} does not match the stack in this directory (${JSON.stringify(actual ?? null)}): nothing was done`,
    );
  }
}

/**
 * The environment to build: the one asked for, or the only one the Stack declares. An invalid
 * Stack document without a usable environment is the problem reported (nothing else can be checked).
 */
export function chooseEnvironment(
  stackDoc: SourceDoc,
  asked: string | undefined,
  schemas: SchemaSet,
  problems: Problems,
): { environment: string; environments: string[] } {
  const spec = ((stackDoc.data as { spec?: Spec }).spec ?? {}) as Spec;
  const environments = Array.isArray(spec['environments'])
    ? (spec['environments'] as unknown[]).filter((e): e is string => typeof e === 'string')
    : [];
  const environment = asked ?? (environments.length === 1 ? environments[0] : undefined);
  const findings = validateData(schemas, stackDoc.data);
  if (findings.length > 0 && (environment === undefined || !environments.includes(environment))) {
    problems.add(...findings.map((f) => ({ file: stackDoc.file, display: stackDoc.display, docIndex: stackDoc.docIndex, ...f })));
    problems.fail();
  }
  if (environment === undefined)
    throw new InvalidInputError('choose an environment with -e/--environment', [
      `environments of this stack: ${environments.join(', ') || '(none)'}`,
    ]);
  if (!environments.includes(environment))
    throw new InvalidInputError(`unknown environment "${environment}"`, [`environments of this stack: ${environments.join(', ')}`]);
  return { environment, environments };
}

/** Only one Stack per directory: the others are reported where they are. */
export function refuseExtraStacks(extra: SourceDoc[], first: SourceDoc, problems: Problems): void {
  for (const d of extra) {
    problems.add({
      file: d.file,
      display: d.display,
      docIndex: d.docIndex,
      pointer: '',
      document: labelOf(d.data),
      message: `only one Stack per directory; the first is in ${first.display}`,
      rule: 'stack',
    });
  }
}

/** What `${var.x}` and `${env.X}` read: `--var` over `--var-file` over the Stack's variables. */
export async function variableScope(
  stackSpec: Spec,
  o: { dir: string; variables?: Record<string, VariableValue>; varFiles?: string[]; env?: NodeJS.ProcessEnv },
  region?: RegionSpec,
): Promise<VariableScope> {
  return {
    vars: {
      ...((stackSpec['variables'] ?? {}) as Record<string, VariableValue>),
      ...(await readVarFiles(o.varFiles ?? [], o.dir)),
      ...(o.variables ?? {}),
      // A region's own variables win: each region of a local stack needs ports of its own.
      ...(region ? { region: region.name, ...region.variables } : {}),
    },
    env: o.env ?? process.env,
    allowEnv: new Set(Array.isArray(stackSpec['allowEnv']) ? (stackSpec['allowEnv'] as string[]) : []),
  };
}

/**
 * The region to build of a Stack that lists regions: the one asked for, else the first listed;
 * undefined when the Stack lists none (a region asked of it is bad input).
 */
export function chooseRegion(stackSpec: Spec, asked: string | undefined): RegionSpec | undefined {
  const regions = listedRegions(stackSpec);
  if (!regions || regions.length === 0) {
    if (asked !== undefined) throw new InvalidInputError(`--region ${asked}: this stack lists no regions (spec.regions of the Stack)`);
    return undefined;
  }
  if (asked === undefined) return regions[0];
  const found = regions.find((r) => r.name === asked);
  if (!found) throw new InvalidInputError(`--region ${asked} is not one of this stack's regions: ${regions.map((r) => r.name).join(', ')}`);
  return found;
}

/** The Stack's target, as overlaid for this environment (`local` by default). */
export function stackTarget(stackSpec: Spec): TargetName {
  return (stackSpec['target'] as TargetName | undefined) ?? 'local';
}

/**
 * The Stack's policies, with their defaults. Read only once the Stack has passed its schema
 * (a duration that does not parse is a schema problem, reported with the others, not here).
 */
export function stackPolicies(
  stackSpec: Spec,
  stackDir: string,
): Pick<DesiredStack, 'lockLevel' | 'rollback' | 'circuitBreaker' | 'drift' | 'pipeline' | 'regions' | 'regionRollout' | 'local'> {
  const drift = stackSpec['drift'] as DesiredStack['drift'] | undefined;
  const portRange = (stackSpec['local'] as { portRange?: string } | undefined)?.portRange;
  return {
    ...regionsOf(stackSpec),
    ...(portRange !== undefined ? { local: { portRange: parsePortRange(portRange) } } : {}),
    pipeline: pipelinePolicy(stackSpec['pipeline'], stackDir),
    lockLevel: ((stackSpec['lock'] as { level?: LockLevel } | undefined)?.level ?? 'stack') as LockLevel,
    rollback: rollbackPolicy(stackSpec['rollback']),
    circuitBreaker: breakerPolicy(stackSpec['circuitBreaker']),
    drift: { ignore: drift?.ignore ?? [] },
  };
}

/** "20000-29999" (the schema checked its form) as a range of ports; bad input when it is not one. */
function parsePortRange(text: string): [number, number] {
  const [from, to] = text.split('-').map(Number) as [number, number];
  if (from < 1024 || to > 65535 || from > to)
    throw new InvalidInputError(`spec.local.portRange of the Stack: "${text}" is not a range of ports within 1024-65535, lowest first`);
  return [from, to];
}

/** `spec.regions` as written (read before the Stack's schema check: anything malformed is left to it). */
function listedRegions(stackSpec: Spec): RegionSpec[] | undefined {
  const listed = stackSpec['regions'];
  if (!Array.isArray(listed)) return undefined;
  return listed.flatMap((r: unknown): RegionSpec[] => {
    if (typeof r === 'string') return [{ name: r, variables: {} }];
    const o = r as { name?: unknown; variables?: unknown } | null;
    if (typeof o?.name !== 'string') return [];
    return [
      { name: o.name, variables: (typeof o.variables === 'object' && o.variables !== null ? o.variables : {}) as RegionSpec['variables'] },
    ];
  });
}

function regionsOf(stackSpec: Spec): Pick<DesiredStack, 'regions' | 'regionRollout'> {
  const regions = listedRegions(stackSpec);
  if (!regions) return {};
  const o = (stackSpec['regionRollout'] ?? {}) as {
    order?: 'parallel' | 'sequential';
    canary?: string;
    maxSwitchLag?: string | number;
    switchTimeout?: string | number;
  };
  return {
    regions,
    regionRollout: {
      order: o.order ?? 'parallel',
      ...(o.canary ? { canary: o.canary } : {}),
      maxSwitchLagMs: durationMs(o.maxSwitchLag, '5s'),
      switchTimeoutMs: durationMs(o.switchTimeout, '5m'),
    },
  };
}

function pipelinePolicy(v: unknown, stackDir: string): DesiredStack['pipeline'] {
  const o = (v ?? {}) as Partial<DesiredStack['pipeline']>;
  const d = STACK_POLICY_DEFAULTS.pipeline;
  return {
    buildCache: o.buildCache ?? d.buildCache,
    requireSignedArtifacts: o.requireSignedArtifacts ?? d.requireSignedArtifacts,
    trustedKeys: (o.trustedKeys ?? []).map((k) => path.resolve(stackDir, k)),
    gates: o.gates ?? d.gates,
  };
}

function rollbackPolicy(v: unknown): DesiredStack['rollback'] {
  if (typeof v === 'string') return { mode: v as DesiredStack['rollback']['mode'], scope: 'run' };
  const o = (v ?? {}) as Partial<DesiredStack['rollback']>;
  const d = STACK_POLICY_DEFAULTS.rollback;
  return { mode: o.mode ?? d.mode, scope: o.scope ?? d.scope };
}

function breakerPolicy(v: unknown): DesiredStack['circuitBreaker'] {
  const o = (v ?? {}) as { enabled?: boolean; failureThreshold?: number; recoveryTimeout?: string | number; halfOpenCalls?: number };
  const d = STACK_POLICY_DEFAULTS.circuitBreaker;
  return {
    enabled: o.enabled ?? d.enabled,
    failureThreshold: o.failureThreshold ?? d.failureThreshold,
    recoveryTimeoutMs: o.recoveryTimeout === undefined ? d.recoveryTimeoutMs : durationMs(o.recoveryTimeout, '0s'),
    halfOpenCalls: o.halfOpenCalls ?? d.halfOpenCalls,
  };
}

async function readVarFiles(files: string[], dir: string): Promise<Record<string, VariableValue>> {
  const out: Record<string, VariableValue> = {};
  for (const f of files) {
    const file = path.resolve(dir, f);
    let data: unknown;
    try {
      data = yamlLib().parse(stripBom(await fs.readFile(file, 'utf8')), { merge: true });
    } catch (err) {
      throw new InvalidInputError(`cannot read the variables file ${f}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new InvalidInputError(`the variables file ${f} must be a mapping of names to values`);
    Object.assign(out, data);
  }
  return out;
}
