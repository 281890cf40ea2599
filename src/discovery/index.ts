/**
 * discovery/: from a stack directory to a validated DesiredStack for one environment and its
 * dependency graph. `discoverStack` runs named stages, each returning what the next needs:
 * read the base documents, find the Stack document and the environment, read that
 * environment's overlays, index and overlay the documents, refuse literal secrets (and keep
 * them out of the parse cache), substitute variables, validate, build the components, build the
 * graph. Every problem goes to one list (`Problems`) and is reported at once (ValidationError,
 * `file:line:col` each); nothing is written but the parse cache.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, ValidationError } from '../errors.js';
import { buildGraph, type DependencyGraph } from '../graph/index.js';
import { isComponentKind, type ComponentKind } from '../model/documents.js';
import type { DesiredStack } from '../model/desired.js';
import { buildComponents, type Built, type StackDoc } from './components.js';
import { applyOverlays, indexDocuments, keyOf, type DocumentIndex, type Identity } from './documents.js';
import { interpolate, type VariableScope, type VariableValue } from './interpolate.js';
import { DocumentCache, loadFiles, type SourceDoc } from './read-documents.js';
import { Problems, sortProblems } from './problems.js';
import { overlayCandidates, pendingAt } from './provenance.js';
import { scanStackDir, type ScannedFiles } from './scan.js';
import { notSecretPointers } from './secret-schema.js';
import { ValidMemo } from './valid-memo.js';
import { findLiteralSecrets } from './secrets.js';
import {
  checkStackName,
  chooseEnvironment,
  findStackDocument,
  refuseExtraStacks,
  stackPolicies,
  chooseRegion,
  stackTarget,
  variableScope,
} from './stack-doc.js';
import { labelOf, loadSchemas, validateData, type SchemaSet } from './validate.js';

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
  /** The region to build when the Stack lists regions (default: the first it lists). */
  region?: string;
  /** The parse cache directory (default `<dir>/.deployer/cache`; false: none). */
  cacheDir?: string | false;
  /**
   * `--stack`: the stack the user means. A directory holding another one is refused as soon as
   * its Stack document is read, before anything else is asked or checked.
   */
  expectedStack?: string;
}

/** A discovered stack: what it declares, and its dependency graph (built once, here). */
export interface DiscoveredStack {
  desired: DesiredStack;
  graph: DependencyGraph;
}

/** The desired stack alone (tests and tools that do not need the graph). */
export async function discover(options: DiscoverOptions): Promise<DesiredStack> {
  return (await discoverStack(options)).desired;
}

export async function discoverStack(options: DiscoverOptions): Promise<DiscoveredStack> {
  const dir = await stackDirectory(options);
  const problems = new Problems();
  const cacheDir = options.cacheDir === false ? undefined : (options.cacheDir ?? path.join(dir.abs, '.deployer', 'cache'));
  const cache = new DocumentCache(cacheDir);
  await cache.load();
  const installed = loadSchemas();
  const known = await ValidMemo.load(cacheDir, installed.fingerprint);
  const schemas: SchemaSet = { ...installed, known };

  const base = await readBaseDocuments(dir, options, cache, problems);
  const { stackDoc, extra } = findStackDocument(base.docs, dir.show(dir.abs), problems);
  checkStackName(options.expectedStack, stackDoc);
  const { environment, environments } = chooseEnvironment(stackDoc, options.environment, schemas, problems);
  refuseExtraStacks(extra, stackDoc, problems);

  const overlayFiles = base.scanned.overlays.get(environment) ?? [];
  const overlays = await loadFiles(overlayFiles, dir.show, cache);
  problems.addLocated(...overlays.problems);
  const identity: Identity = { dir: dir.abs, environment, overlayFiles: new Set(overlayFiles) };
  const byKey = indexDocuments(base.docs, identity, problems);
  applyOverlays(byKey, overlays.docs, identity, problems);

  // The Stack as overlaid for this environment decides the rest: target, lock level, variables.
  const stack = byKey.get(keyOf(stackDoc, identity)!)!;
  const stackSpec = ((stack.data as { spec?: Record<string, unknown> }).spec ?? {}) as Record<string, unknown>;
  const region = chooseRegion(stackSpec, options.region);
  const scope = await variableScope(stackSpec, { ...options, dir: dir.abs }, region);

  refuseLiteralSecrets(byKey, [...base.docs, ...overlays.docs], cache, problems);
  // The cache keeps what every environment's files parsed to, so switching -e costs nothing.
  await cache.save(new Set([...base.scanned.base, ...[...base.scanned.overlays.values()].flat()]));
  substituteVariables(byKey, scope, problems);
  validateDocuments(byKey, schemas, problems);

  const target = stackTarget(stackSpec);
  const built = buildComponents({
    docs: [...byKey.values()],
    stack: stackDoc,
    schemas,
    environment,
    target,
    stackRegion: stackSpec['region'] as string | undefined,
    dir: dir.abs,
  });
  problems.add(...built.problems);
  const graph = buildDependencyGraph(built, problems);
  problems.failIfAny();
  // Only once nothing was refused: a document with a literal secret in it may validate clean, and its hash must not be kept.
  await known.save();

  const desired: DesiredStack = {
    name: (stack.data as { metadata: { name: string } }).metadata.name,
    // Each region is an environment of its own for state, locks and Pulumi stacks: `<env>/<region>`.
    environment: region ? `${environment}/${region.name}` : environment,
    ...(region ? { region: region.name } : {}),
    environments,
    target,
    ...stackPolicies(stackSpec, dir.abs),
    dir: dir.abs,
    services: built.services,
    components: built.components,
    ...(built.policyRules.length > 0 ? { policyRules: built.policyRules as unknown as DesiredStack['policyRules'] } : {}),
    warnings: sortProblems(built.warnings.map((w) => problems.locator.resolve(w))),
  };
  return { desired, graph: graph! };
}

/** The stack directory, absolute, and how a path is shown in messages (relative to `displayBase`). */
interface StackDirectory {
  abs: string;
  show: (abs: string) => string;
}

async function stackDirectory(options: DiscoverOptions): Promise<StackDirectory> {
  const abs = path.resolve(options.dir);
  const base = options.displayBase ?? process.cwd();
  const show = (p: string): string => path.relative(base, p) || p;
  const stat = await fs.stat(abs).catch(() => undefined);
  if (!stat?.isDirectory()) throw new InvalidInputError(`stack directory not found: ${show(abs)}`);
  return { abs, show };
}

/** Every base document of the directory (overlays apart; a `--var-file` kept there is variables, not a document). */
async function readBaseDocuments(
  dir: StackDirectory,
  options: DiscoverOptions,
  cache: DocumentCache,
  problems: Problems,
): Promise<{ scanned: ScannedFiles; docs: SourceDoc[] }> {
  const scanned = await scanStackDir(dir.abs);
  const varFiles = new Set((options.varFiles ?? []).map((f) => path.resolve(dir.abs, f)));
  scanned.base = scanned.base.filter((f) => !varFiles.has(f));
  const loaded = await loadFiles(scanned.base, dir.show, cache);
  problems.addLocated(
    ...loaded.problems,
    ...scanned.problems.map((p) => ({ ...p, location: { ...p.location, file: dir.show(p.location.file) } })),
  );
  return { scanned, docs: loaded.docs };
}

/**
 * Literal secrets, in every document as written (before variables are substituted), also in
 * the documents left out of the index (duplicates, overlays of nothing). The parse cache must not
 * keep a value validation refuses, nor one another environment's overlay removes (it is still in
 * its file, and so in that file's cache entry): such files are parsed anew next time.
 */
function refuseLiteralSecrets(byKey: DocumentIndex, everyDoc: SourceDoc[], cache: DocumentCache, problems: Problems): void {
  const merged = new Set([...byKey.values()].flatMap((d) => d.sources));
  const leftOut = everyDoc.filter((d) => !merged.has(d)).map((d) => ({ sources: [d], data: d.data }));
  for (const doc of [...byKey.values(), ...leftOut]) {
    const candidates = overlayCandidates(doc.sources);
    for (const f of findLiteralSecrets(doc.data, { notSecret: () => notSecretPointers(doc.data) })) {
      const p = pendingAt(candidates, f.pointer, { document: labelOf(doc.data), message: f.message, rule: f.rule });
      problems.add(p);
      cache.forget(p.file);
    }
  }
  for (const d of everyDoc) {
    if (findLiteralSecrets(d.data, { notSecret: () => notSecretPointers(d.data) }).length > 0) cache.forget(d.file);
  }
}

/** `${var.x}` and `${env.X}` in every document but the Stack (which defines them). */
function substituteVariables(byKey: DocumentIndex, scope: VariableScope, problems: Problems): void {
  for (const doc of byKey.values()) {
    if (kindOf(doc) === 'Stack') continue;
    const r = interpolate(doc.data, scope);
    doc.data = r.value;
    const candidates = overlayCandidates(doc.sources);
    for (const p of r.problems)
      problems.add(pendingAt(candidates, p.pointer, { document: labelOf(doc.data), message: p.message, rule: p.rule }));
  }
}

/** The schema of every document that is not a component (components are validated with their defaults, in buildComponents). */
function validateDocuments(byKey: DocumentIndex, schemas: SchemaSet, problems: Problems): void {
  for (const doc of byKey.values()) {
    const kind = kindOf(doc);
    if (typeof kind === 'string' && isComponentKind(kind)) continue;
    const candidates = overlayCandidates(doc.sources);
    for (const f of validateData(schemas, doc.data))
      problems.add(pendingAt(candidates, f.pointer, { document: f.document, message: f.message, rule: f.rule }));
  }
}

/** The graph of the components; a dependency cycle is reported with the other problems, not after they are fixed. */
function buildDependencyGraph(built: Built, problems: Problems): DependencyGraph | undefined {
  const where = (id: string, pointer: string) => {
    const c = built.components.get(id)!.source;
    return problems.locator.where(c.file, c.display, c.docIndex, pointer);
  };
  try {
    return buildGraph(built.components.values(), (id) => built.components.get(id), where);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    problems.addLocated(...err.problems);
    return undefined;
  }
}

const kindOf = (doc: StackDoc): unknown => (doc.data as { kind?: unknown } | null)?.kind;

export { sortProblems };
export type { ComponentKind };
