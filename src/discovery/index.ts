/**
 * discovery/: from a stack directory to a validated DesiredStack for one environment — scan,
 * parse (cached, positions only where needed), overlay, variables, schemas, defaults,
 * literal secrets, policies, references. Every problem is collected and reported at once
 * (ValidationError, `file:line:col` each); nothing is written but the parse cache.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, ValidationError, type ValidationProblem } from '../errors.js';
import { buildGraph } from '../graph/index.js';
import { isComponentKind, type ComponentKind } from '../model/documents.js';
import { STACK_POLICY_DEFAULTS, type DesiredStack, type LockLevel, type TargetName } from '../model/desired.js';
import { buildComponents, type StackDoc } from './components.js';
import { interpolate, type VariableScope, type VariableValue } from './interpolate.js';
import { DocumentCache, loadFiles, type SourceDoc } from './load.js';
import { Locator, type PendingProblem } from './locate.js';
import { mergeOverlay } from './overlay.js';
import { stripBom } from './parse.js';
import { overlayCandidates, pendingAt } from './provenance.js';
import { scanStackDir } from './scan.js';
import { durationMs } from '../util/duration.js';
import { notSecretPointers } from './secret-schema.js';
import { findLiteralSecrets } from './secrets.js';
import { labelOf, loadSchemas, validateData } from './validate.js';

export interface DiscoverOptions {
  /** The stack directory. */
  dir: string;
  /** The environment to build; may be omitted when the stack declares exactly one. */
  environment?: string;
  /** Paths in error messages are shown relative to this directory (default: the process cwd). */
  displayBase?: string;
  /** `--var` values (highest precedence), then `--var-file` files, over the Stack's variables. */
  variables?: Record<string, VariableValue>;
  varFiles?: string[];
  /** Where `${env.NAME}` reads from (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
  /** The parse cache directory (default `<dir>/.deployer/cache`; false: none). */
  cacheDir?: string | false;
  /**
   * `--stack`: the stack the user means. A directory holding another one is refused as soon as
   * its Stack document is read, before anything else is asked or checked.
   */
  expectedStack?: string;
}

export async function discover(options: DiscoverOptions): Promise<DesiredStack> {
  const dir = path.resolve(options.dir);
  const base = options.displayBase ?? process.cwd();
  const display = (abs: string): string => path.relative(base, abs) || abs;
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new InvalidInputError(`stack directory not found: ${display(dir)}`);

  const located: ValidationProblem[] = [];
  const pending: PendingProblem[] = [];
  const locator = new Locator();
  const fail = (): never => {
    throw new ValidationError(sortProblems([...located, ...pending.map((p) => locator.resolve(p))]));
  };

  const scanned = await scanStackDir(dir);
  // A --var-file kept in the stack directory is variables, not a document of the stack.
  const varFiles = new Set((options.varFiles ?? []).map((f) => path.resolve(dir, f)));
  scanned.base = scanned.base.filter((f) => !varFiles.has(f));
  const cache = new DocumentCache(options.cacheDir === false ? undefined : (options.cacheDir ?? path.join(dir, '.deployer', 'cache')));
  await cache.load();
  const loaded = await loadFiles(scanned.base, display, cache);
  located.push(...loaded.problems, ...scanned.problems.map((p) => ({ ...p, location: { ...p.location, file: display(p.location.file) } })));
  const baseDocs = loaded.docs;
  const schemas = loadSchemas();

  // The Stack document decides the environments, the variables and which env vars may be read.
  const stackDocs = baseDocs.filter((d) => (d.data as { kind?: unknown } | null)?.kind === 'Stack');
  if (stackDocs.length === 0) {
    located.push({ location: { file: display(dir), line: 1, col: 1 }, path: '', message: 'no Stack document found (kind: Stack, usually in stack.yaml)', rule: 'stack' });
    fail();
  }
  const stackDoc = stackDocs[0]!;
  checkStackName(options.expectedStack, (stackDoc.data as { metadata?: { name?: unknown } }).metadata?.name);
  const stackFindings = validateData(schemas, stackDoc.data);
  const baseStackSpec = ((stackDoc.data as { spec?: Record<string, unknown> }).spec ?? {}) as Record<string, unknown>;
  const environments = Array.isArray(baseStackSpec['environments']) ? (baseStackSpec['environments'] as unknown[]).filter((e): e is string => typeof e === 'string') : [];
  const environment = options.environment ?? (environments.length === 1 ? environments[0] : undefined);
  if (stackFindings.length > 0 && (environment === undefined || !environments.includes(environment))) {
    // No usable environment: the invalid Stack document is the problem to report.
    pending.push(...stackFindings.map((f) => ({ file: stackDoc.file, display: stackDoc.display, docIndex: stackDoc.docIndex, ...f })));
    fail();
  }
  if (environment === undefined) throw new InvalidInputError('choose an environment with -e/--environment', [`environments of this stack: ${environments.join(', ') || '(none)'}`]);
  if (!environments.includes(environment)) throw new InvalidInputError(`unknown environment "${environment}"`, [`environments of this stack: ${environments.join(', ')}`]);
  for (const extra of stackDocs.slice(1)) {
    pending.push({ file: extra.file, display: extra.display, docIndex: extra.docIndex, pointer: '', document: labelOf(extra.data), message: `only one Stack per directory; the first is in ${stackDoc.display}`, rule: 'stack' });
  }

  // Only this environment's overlays are read.
  const overlayFiles = scanned.overlays.get(environment) ?? [];
  const overlays = await loadFiles(overlayFiles, display, cache);
  located.push(...overlays.problems);
  const isOverlay = new Set(overlayFiles);

  // Index base documents by identity (docKey), then apply this environment's overlays onto them.
  const byKey = new Map<string, StackDoc>();
  const keyOf = (d: SourceDoc): string | undefined => docKey(d, isOverlay.has(d.file) ? path.join(dir, 'environments', environment) : dir);
  for (const d of baseDocs) {
    const key = keyOf(d);
    if (key === undefined) {
      byKey.set(`?${d.file}#${d.docIndex}`, { key: '', sources: [d], data: d.data, service: undefined });
      continue;
    }
    const first = byKey.get(key);
    if (first) {
      const f = first.sources[0]!;
      const at = locator.where(f.file, f.display, f.docIndex, '');
      const where = `${at.file}:${at.line}:${at.col}`;
      // A component is replaced only by an overlay: a second base document, even of another kind, is a mistake.
      const message = key.startsWith(COMPONENT_KEY)
        ? `duplicate component ${key.slice(COMPONENT_KEY.length)}: already defined at ${where} as ${labelOf(f.data)}; a component is <service>/<name> whatever its kind, and only an overlay under environments/<env>/ changes a document`
        : `duplicate document: already defined at ${where}`;
      pending.push({ file: d.file, display: d.display, docIndex: d.docIndex, pointer: '/metadata/name', document: labelOf(d.data), message, rule: 'unique' });
      continue;
    }
    byKey.set(key, { key, sources: [d], data: d.data, service: serviceOf(d, dir) });
  }
  for (const o of overlays.docs) {
    const key = keyOf(o);
    const target = key === undefined ? undefined : byKey.get(key);
    if (!target) {
      pending.push({ file: o.file, display: o.display, docIndex: o.docIndex, pointer: '', document: labelOf(o.data), message: `overlay for ${labelOf(o.data)}, which no base document defines`, rule: 'overlay' });
      continue;
    }
    // Components are found by <service>/<name> alone, so the kind has to be compared here.
    const baseKind = (target.data as { kind?: unknown }).kind;
    const kind = (o.data as { kind?: unknown }).kind;
    if (kind !== baseKind) {
      const f = target.sources[0]!;
      const at = locator.where(f.file, f.display, f.docIndex, '');
      const message = `an overlay cannot change a document's kind: ${key!.slice(COMPONENT_KEY.length)} is defined at ${at.file}:${at.line}:${at.col} as ${labelOf(f.data)}, this overlay says ${String(kind)}`;
      pending.push({ file: o.file, display: o.display, docIndex: o.docIndex, pointer: '/kind', document: labelOf(o.data), message, rule: 'overlay' });
      continue;
    }
    target.sources.push(o);
    target.data = mergeOverlay(target.data, o.data);
  }

  // The Stack as overlaid for this environment decides the rest: target, lock level, variables.
  const stack = byKey.get(keyOf(stackDoc)!)!;
  const stackSpec = ((stack.data as { spec?: Record<string, unknown> }).spec ?? {}) as Record<string, unknown>;
  const scope: VariableScope = {
    vars: { ...((stackSpec['variables'] ?? {}) as Record<string, VariableValue>), ...(await readVarFiles(options.varFiles ?? [], dir)), ...(options.variables ?? {}) },
    env: options.env ?? process.env,
    allowEnv: new Set(Array.isArray(stackSpec['allowEnv']) ? (stackSpec['allowEnv'] as string[]) : []),
  };

  // Literal secrets, in every document as written (before variables are substituted), also in
  // the documents left out above (duplicates, overlays of nothing): their files are cached too.
  const merged = new Set([...byKey.values()].flatMap((d) => d.sources));
  const leftOut = [...baseDocs, ...overlays.docs].filter((d) => !merged.has(d)).map((d) => ({ sources: [d], data: d.data }));
  for (const doc of [...byKey.values(), ...leftOut]) {
    const candidates = overlayCandidates(doc.sources);
    for (const f of findLiteralSecrets(doc.data, { notSecret: () => notSecretPointers(doc.data) })) {
      const p = pendingAt(candidates, f.pointer, { document: labelOf(doc.data), message: f.message, rule: f.rule });
      pending.push(p);
      // The parse cache must not keep a value validation refuses: that file is parsed anew next time.
      cache.forget(p.file);
    }
  }
  // A value another environment's overlay removes is not in the merged documents above, but it
  // is in its file, and so in that file's cache entry: such files are not cached either.
  for (const d of [...baseDocs, ...overlays.docs]) {
    if (findLiteralSecrets(d.data, { notSecret: () => notSecretPointers(d.data) }).length > 0) cache.forget(d.file);
  }
  // The cache keeps what every environment's files parsed to, so switching -e costs nothing.
  await cache.save(new Set([...scanned.base, ...[...scanned.overlays.values()].flat()]));

  // Variables, then the schema of every document that is not a component (components are
  // validated once their defaults are applied, in buildComponents).
  for (const doc of byKey.values()) {
    if ((doc.data as { kind?: unknown } | null)?.kind === 'Stack') continue;
    const r = interpolate(doc.data, scope);
    doc.data = r.value;
    const candidates = overlayCandidates(doc.sources);
    for (const p of r.problems) pending.push(pendingAt(candidates, p.pointer, { document: labelOf(doc.data), message: p.message, rule: p.rule }));
  }
  for (const doc of byKey.values()) {
    const kind = (doc.data as { kind?: unknown } | null)?.kind;
    if (typeof kind === 'string' && isComponentKind(kind)) continue;
    const candidates = overlayCandidates(doc.sources);
    for (const f of validateData(schemas, doc.data)) pending.push(pendingAt(candidates, f.pointer, { document: f.document, message: f.message, rule: f.rule }));
  }

  const target = (stackSpec['target'] as TargetName | undefined) ?? 'local';
  const built = buildComponents({ docs: [...byKey.values()], stack: stackDoc, schemas, environment, target, stackRegion: stackSpec['region'] as string | undefined, dir });
  pending.push(...built.problems);
  // A dependency cycle is reported with the other problems, not after they are fixed.
  try {
    const where = (id: string, pointer: string) => {
      const c = built.components.get(id)!.source;
      return locator.where(c.file, c.display, c.docIndex, pointer);
    };
    buildGraph(built.components.values(), (id) => built.components.get(id), where);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    located.push(...err.problems);
  }
  if (located.length + pending.length > 0) fail();

  return {
    name: (stack.data as { metadata: { name: string } }).metadata.name,
    environment,
    environments,
    target,
    lockLevel: ((stackSpec['lock'] as { level?: LockLevel } | undefined)?.level ?? 'stack') as LockLevel,
    rollback: rollbackPolicy(stackSpec['rollback']),
    circuitBreaker: breakerPolicy(stackSpec['circuitBreaker']),
    dir,
    services: built.services,
    components: built.components,
    warnings: sortProblems(built.warnings.map((w) => locator.resolve(w))),
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

/** The key prefix of component documents (no kind contains a space). */
const COMPONENT_KEY = 'component ';

/**
 * Identity of a document for duplicates and overlays. A component is `<service>/<name>`
 * whatever its kind (the id the state and the plan know it by); other documents are their kind
 * and name (and service, for the per-service and per-component defaults).
 */
function docKey(d: SourceDoc, root: string): string | undefined {
  const data = d.data as { kind?: unknown; metadata?: { name?: unknown } } | null;
  const kind = data?.kind;
  const name = data?.metadata?.name;
  if (typeof kind !== 'string' || typeof name !== 'string' || kind === '' || name === '') return undefined;
  if (isComponentKind(kind)) {
    const service = serviceOf(d, root);
    // Without a service there is no id (buildComponents reports that); keep such documents apart by kind.
    return service === undefined ? `${kind}//${name}` : `${COMPONENT_KEY}${service}/${name}`;
  }
  if (kind === 'ServiceInfraDefaults' || kind === 'ComponentInfra') return `${kind}/${serviceOf(d, root) ?? ''}/${name}`;
  return `${kind}//${name}`;
}

/** metadata.service, else the services/<service>/ folder the file is in. */
function serviceOf(d: SourceDoc, root: string): string | undefined {
  const meta = (d.data as { metadata?: { service?: unknown } } | null)?.metadata;
  if (typeof meta?.service === 'string') return meta.service;
  const parts = path.relative(root, d.file).split(path.sep);
  return parts[0] === 'services' && parts.length >= 3 ? parts[1] : undefined;
}

async function readVarFiles(files: string[], dir: string): Promise<Record<string, VariableValue>> {
  const out: Record<string, VariableValue> = {};
  const { parse } = await import('yaml');
  for (const f of files) {
    const file = path.resolve(dir, f);
    let data: unknown;
    try {
      data = parse(stripBom(await fs.readFile(file, 'utf8')), { merge: true });
    } catch (err) {
      throw new InvalidInputError(`cannot read the variables file ${f}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InvalidInputError(`the variables file ${f} must be a mapping of names to values`);
    Object.assign(out, data);
  }
  return out;
}

export function sortProblems(problems: ValidationProblem[]): ValidationProblem[] {
  return [...problems].sort(
    (a, b) => a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line || a.location.col - b.location.col,
  );
}

export type { ComponentKind };

/** `--stack` names the stack the user means; refuse to act on another one (exit 2, nothing touched). */
function checkStackName(expected: string | undefined, actual: unknown): void {
  if (expected !== undefined && expected !== actual) {
    throw new InvalidInputError(`--stack ${expected} does not match the stack in this directory (${JSON.stringify(actual ?? null)}): nothing was done`);
  }
}
