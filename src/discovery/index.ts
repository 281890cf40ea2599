/**
 * discovery/: from a stack directory to a validated DesiredStack for one environment —
 * scan, parse (with positions), overlay, validate against schemas/, resolve dependencies.
 * Every problem is collected and reported at once as a ValidationError; nothing is written.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, ValidationError, type SourceLocation, type ValidationProblem } from '../errors.js';
import { isComponentKind, type ComponentKind } from '../model/documents.js';
import type { DesiredComponent, DesiredService, DesiredStack, LockLevel, TargetName } from '../model/desired.js';
import { hashOf } from '../model/hash.js';
import { mergeOverlay } from './overlay.js';
import { locate, parseYamlFile, type ParsedDocument } from './parse.js';
import { collectReferences, resolveDependsOn } from './references.js';
import { scanStackDir } from './scan.js';
import { loadSchemas, validateDocument } from './validate.js';

export interface DiscoverOptions {
  /** The stack directory. */
  dir: string;
  /** The environment to build; may be omitted when the stack declares exactly one. */
  environment?: string;
  /** Paths in error messages are shown relative to this directory (default: the process cwd). */
  displayBase?: string;
}

interface LoadedDoc extends ParsedDocument {
  file: string;
  kind: string;
  name: string;
  /** The service a component belongs to (metadata.service, else its services/<svc>/ folder). */
  service?: string;
}

const MAX_FILE_BYTES = 16 * 1024 * 1024;

export async function discover(options: DiscoverOptions): Promise<DesiredStack> {
  const dir = path.resolve(options.dir);
  const display = (abs: string): string => path.relative(options.displayBase ?? process.cwd(), abs) || abs;
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new InvalidInputError(`stack directory not found: ${display(dir)}`);

  const problems: ValidationProblem[] = [];
  const scanned = await scanStackDir(dir);
  const load = async (file: string, relRoot: string): Promise<LoadedDoc[]> => {
    const shown = display(file);
    const bytes = await fs.readFile(file).catch(() => undefined);
    if (bytes === undefined) return []; // vanished during the scan
    if (bytes.length > MAX_FILE_BYTES) {
      problems.push(problemAt(shown, '', `file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`, 'file-size'));
      return [];
    }
    if (bytes.includes(0)) {
      problems.push(problemAt(shown, '', 'binary file (contains NUL bytes), not YAML', 'encoding'));
      return [];
    }
    const parsed = parseYamlFile(shown, bytes.toString('utf8'));
    problems.push(...parsed.problems);
    const inferred = inferService(path.relative(relRoot, file));
    const docs: LoadedDoc[] = [];
    for (const d of parsed.documents) {
      const data = d.data as Record<string, unknown> | null;
      const meta = (data?.['metadata'] ?? {}) as { name?: unknown; service?: unknown };
      const kind = typeof data?.['kind'] === 'string' ? (data['kind'] as string) : '';
      const name = typeof meta.name === 'string' ? meta.name : '';
      const service = typeof meta.service === 'string' ? meta.service : inferred;
      docs.push({ ...d, file: shown, kind, name, ...(service === undefined ? {} : { service }) });
    }
    return docs;
  };

  const baseDocs = (await Promise.all(scanned.base.map((f) => load(f, dir)))).flat();
  const stackDocs = baseDocs.filter((d) => d.kind === 'Stack');
  if (stackDocs.length === 0) {
    problems.push(problemAt(display(dir), '', 'no Stack document found (kind: Stack, usually in stack.yaml)', 'stack'));
    throw new ValidationError(sortProblems(problems));
  }
  const stackData = stackDocs[0]!.data as { spec?: { environments?: unknown } };
  const environments = Array.isArray(stackData.spec?.environments)
    ? (stackData.spec.environments as unknown[]).filter((e): e is string => typeof e === 'string')
    : [];
  const environment = options.environment ?? (environments.length === 1 ? environments[0] : undefined);
  if (environment === undefined || !environments.includes(environment)) {
    // No usable environment: when the Stack document itself is invalid (say, `environments` is
    // not a list), report that, with every problem found so far, not "unknown environment".
    const stackProblems = validateDocument(loadSchemas(), stackDocs[0]!);
    if (stackProblems.length > 0) throw new ValidationError(sortProblems([...problems, ...stackProblems]));
  }
  if (environment === undefined) {
    throw new InvalidInputError('choose an environment with -e/--environment', [`environments of this stack: ${environments.join(', ') || '(none)'}`]);
  }
  if (!environments.includes(environment)) {
    throw new InvalidInputError(`unknown environment "${environment}"`, [`environments of this stack: ${environments.join(', ')}`]);
  }
  const overlayFiles = scanned.overlays.get(environment) ?? [];
  const overlayDocs = (await Promise.all(overlayFiles.map((f) => load(f, path.join(dir, 'environments', environment))))).flat();

  // Index base documents, then apply this environment's overlays onto them.
  const byKey = new Map<string, LoadedDoc>();
  for (const d of baseDocs) {
    if (d.kind === '' || d.name === '') {
      // No kind or name to be a duplicate of anything: schema validation reports what it lacks.
      byKey.set(`?${d.file}#${d.docIndex}`, d);
      continue;
    }
    const key = docKey(d);
    const first = byKey.get(key);
    if (first) {
      problems.push({ location: d.source, document: `${d.kind}/${d.name}`, path: '/metadata/name', message: `duplicate document: already defined at ${where(first.source)}`, rule: 'unique' });
      continue;
    }
    byKey.set(key, d);
  }
  for (const o of overlayDocs) {
    const target = byKey.get(docKey(o));
    if (!target) {
      problems.push({ location: o.source, document: `${o.kind}/${o.name}`, path: '', message: `overlay for ${o.kind}/${o.name}, which no base document defines`, rule: 'overlay' });
      continue;
    }
    const positions = new Map(target.positions);
    for (const [k, v] of o.positions) positions.set(k, v);
    byKey.set(docKey(o), { ...target, data: mergeOverlay(target.data, o.data), positions });
  }

  const schemas = loadSchemas();
  for (const d of byKey.values()) problems.push(...validateDocument(schemas, d));
  if (stackDocs.length > 1) {
    for (const extra of stackDocs.slice(1)) {
      problems.push({ location: extra.source, document: `Stack/${extra.name}`, path: '', message: `only one Stack per directory; the first is at ${where(stackDocs[0]!.source)}`, rule: 'stack' });
    }
  }
  if (problems.length > 0) throw new ValidationError(sortProblems(problems));

  const stack = byKey.get(docKey(stackDocs[0]!))!;
  const stackSpec = (stack.data as { spec: { target?: TargetName; lock?: { level?: LockLevel } } }).spec;
  const target: TargetName = stackSpec.target ?? 'local';
  const services = new Map<string, DesiredService>();
  const componentDocs: LoadedDoc[] = [];
  for (const d of byKey.values()) {
    if (d.kind === 'Service') {
      const version = (d.data as { spec?: { version?: string } }).spec?.version;
      services.set(d.name, { name: d.name, source: d.source, ...(version === undefined ? {} : { version }) });
    } else if (isComponentKind(d.kind)) componentDocs.push(d);
  }

  const components = new Map<string, DesiredComponent>();
  const docOf = new Map<string, LoadedDoc>();
  for (const d of componentDocs) {
    if (d.service === undefined) {
      problems.push({ location: d.source, document: `${d.kind}/${d.name}`, path: '/metadata', message: 'component has no service: set metadata.service or put it under services/<service>/', rule: 'service' });
      continue;
    }
    if (!services.has(d.service)) {
      problems.push({ location: d.positions.get('/metadata/service') ?? d.source, document: `${d.kind}/${d.name}`, path: '/metadata/service', message: `service "${d.service}" has no Service document`, rule: 'service' });
      continue;
    }
    const spec = ((d.data as { spec?: Record<string, unknown> }).spec ?? {}) as Record<string, unknown>;
    const id = `${d.service}/${d.name}`;
    components.set(id, {
      id,
      service: d.service,
      name: d.name,
      kind: d.kind as ComponentKind,
      target,
      spec,
      dependsOn: [],
      references: collectReferences(spec),
      baseDir: path.dirname(path.resolve(options.displayBase ?? process.cwd(), d.file)),
      source: d.source,
      specHash: '',
    });
    docOf.set(id, d);
  }

  // A Service's own dependsOn applies to each of its components; check its entries once, here.
  const serviceDeps = new Map<string, string[]>();
  const serviceNames = new Set([...components.values()].map((c) => c.service));
  for (const s of services.values()) {
    const doc = byKey.get(`Service//${s.name}`)!;
    const deps = (doc.data as { spec?: { dependsOn?: string[] } }).spec?.dependsOn ?? [];
    deps.forEach((e, i) => {
      if (!(e.includes('/') ? components.has(e) : serviceNames.has(e))) {
        problems.push({ location: locate(doc.positions, `/spec/dependsOn/${i}`, doc.source), document: `Service/${s.name}`, path: `/spec/dependsOn/${i}`, message: `unknown component or service "${e}"`, rule: 'reference' });
      }
    });
    serviceDeps.set(s.name, deps.filter((e) => (e.includes('/') ? components.has(e) : serviceNames.has(e))));
  }

  // Dependencies: explicit (component and service level) and implicit (valueFrom).
  for (const c of components.values()) {
    const doc = docOf.get(c.id)!;
    const { dependsOn, problems: depProblems } = resolveDependsOn(c, serviceDeps.get(c.service) ?? [], components, doc.positions, doc.source);
    problems.push(...depProblems.map((p) => ({ ...p, document: `${c.kind}/${c.name}` })));
    c.dependsOn = dependsOn;
    c.specHash = hashOf({ kind: c.kind, target: c.target, spec: withoutDependsOn(c.spec) });
  }
  if (problems.length > 0) throw new ValidationError(sortProblems(problems));

  return {
    name: stack.name,
    environment,
    environments,
    target,
    lockLevel: stackSpec.lock?.level ?? 'stack',
    dir,
    services,
    components,
  };
}

/** `dependsOn` orders the work; it does not change the resource, so it is not part of the hash. */
function withoutDependsOn(spec: Record<string, unknown>): Record<string, unknown> {
  const { dependsOn: _ignored, ...rest } = spec;
  return rest;
}

function docKey(d: LoadedDoc): string {
  return isComponentKind(d.kind) ? `${d.kind}/${d.service ?? ''}/${d.name}` : `${d.kind}//${d.name}`;
}

function inferService(relative: string): string | undefined {
  const parts = relative.split(path.sep);
  return parts[0] === 'services' && parts.length >= 3 ? parts[1] : undefined;
}

function where(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.col}`;
}

function problemAt(file: string, pointer: string, message: string, rule: string): ValidationProblem {
  return { location: { file, line: 1, col: 1 }, path: pointer, message, rule };
}

export function sortProblems(problems: ValidationProblem[]): ValidationProblem[] {
  return [...problems].sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line || a.location.col - b.location.col,
  );
}
