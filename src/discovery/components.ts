/**
 * From the stack's documents to its services and components: each component's effective spec
 * (defaults under its own spec), validated against its kind's schema; literal secrets; the
 * Compliance and Security policies; dependencies and references; the spec hash.
 */
import path from 'node:path';
import { InternalError } from '../errors.js';
import { isComponentKind, type ComponentKind } from '../model/documents.js';
import type { DesiredComponent, DesiredService, TargetName } from '../model/desired.js';
import { hashOf } from '../model/hash.js';
import { DefaultsIndex, effectiveSpec } from './defaults.js';
import type { SourceDoc } from './read-documents.js';
import type { PendingProblem } from './locate.js';
import { evaluatePolicies, type PolicyRule, type PolicySubject } from './policies.js';
import { checkOutputs } from './outputs.js';
import { overlayCandidates, pendingAt, type Candidate } from './provenance.js';
import { collectReferences, DependencyIndex } from './references.js';
import { resolveTypedReferences } from './typed-references.js';
import { addAwsPlatform } from './aws-platform.js';
import { labelOf, validateData, type SchemaSet } from './validate.js';

/** A document of the stack after overlays: its merged data and the files it came from. */
export interface StackDoc {
  key: string;
  sources: SourceDoc[];
  data: unknown;
  service: string | undefined;
}

export interface BuildInput {
  docs: StackDoc[];
  stack: SourceDoc;
  schemas: SchemaSet;
  environment: string;
  target: TargetName;
  stackRegion: string | undefined;
  dir: string;
}

export interface Built {
  services: Map<string, DesiredService>;
  components: Map<string, DesiredComponent>;
  problems: PendingProblem[];
  warnings: PendingProblem[];
  /** The rules of the Compliance and Security documents (the policy gate checks them again at deploy time). */
  policyRules: PolicyRule[];
}

type Spec = Record<string, unknown>;
const kindOf = (d: StackDoc): string => String((d.data as { kind?: unknown } | null)?.kind ?? '');
const nameOf = (d: StackDoc): string => String((d.data as { metadata?: { name?: unknown } } | null)?.metadata?.name ?? '');
const specOf = (d: StackDoc): Spec => ((d.data as { spec?: Spec } | null)?.spec ?? {}) as Spec;
const ref = (d: SourceDoc): DesiredComponent['source'] => ({ file: d.file, display: d.display, docIndex: d.docIndex });

export function buildComponents(input: BuildInput): Built {
  const problems: PendingProblem[] = [];
  const warnings: PendingProblem[] = [];
  const defaults = new DefaultsIndex();
  const sourceDocs: StackDoc[] = [];
  const services = new Map<string, DesiredService>();
  const componentDocs: StackDoc[] = [];
  const rules: Array<{ rule: PolicyRule; doc: StackDoc }> = [];

  for (const d of input.docs) {
    const kind = kindOf(d);
    if (kind === 'InfraDefaults' || kind === 'ServiceInfraDefaults' || kind === 'ComponentInfra') {
      defaults.add(kind, d.data, sourceDocs.length);
      sourceDocs.push(d);
    } else if (kind === 'Service') {
      const { version, owner } = specOf(d);
      services.set(nameOf(d), {
        name: nameOf(d),
        source: ref(d.sources[0]!),
        ...(typeof version === 'string' ? { version } : {}),
        ...(typeof owner === 'string' ? { owner } : {}),
      });
    } else if (kind === 'Compliance' || kind === 'Security') {
      for (const rule of (specOf(d)['rules'] ?? []) as PolicyRule[]) rules.push({ rule, doc: d });
    } else if (isComponentKind(kind)) componentDocs.push(d);
  }

  const components = new Map<string, DesiredComponent>();
  const candidatesOf = new Map<string, Candidate[]>();
  const subjects: PolicySubject[] = [];
  const region = defaults.region() ?? input.stackRegion;
  for (const d of componentDocs) {
    const label = labelOf(d.data);
    if (d.service === undefined) {
      problems.push(
        pendingAt(overlayCandidates(d.sources), '/metadata', {
          document: label,
          message: 'component has no service: set metadata.service or put it under services/<service>/',
          rule: 'service',
        }),
      );
      continue;
    }
    if (!services.has(d.service)) {
      problems.push(
        pendingAt(overlayCandidates(d.sources), '/metadata/service', {
          document: label,
          message: `service "${d.service}" has no Service document`,
          rule: 'service',
        }),
      );
      continue;
    }
    const id = `${d.service}/${nameOf(d)}`;
    // discover() refuses a second document with this id; overwriting one here would deploy the wrong thing.
    const existing = components.get(id);
    if (existing)
      throw new InternalError(
        `two documents define component ${id}: ${existing.kind} in ${existing.source.display} and ${kindOf(d)} in ${d.sources[0]!.display}`,
      );
    const layers = defaults.layers(kindOf(d), d.service, id);
    const spec = effectiveSpec(specOf(d), layers);
    // Own document (and its overlays) first, then the defaults from the nearest to the widest.
    const candidates: Candidate[] = [
      ...overlayCandidates(d.sources),
      // A layer answers only for the fields it sets; each of its files (base, overlays) may have written them.
      ...[...layers].reverse().flatMap((l) =>
        overlayCandidates(sourceDocs[l.source]!.sources).map((c) => ({
          source: c.source,
          map: (p: string) => (Object.hasOwn(l.spec, specField(p)) ? l.pointer + p.slice('/spec'.length) : undefined),
        })),
      ),
    ];
    candidatesOf.set(id, candidates);
    for (const f of validateData(input.schemas, { ...(d.data as object), spec }))
      problems.push(pendingAt(candidates, f.pointer, { document: label, message: f.message, rule: f.rule }));
    components.set(id, {
      id,
      service: d.service,
      name: nameOf(d),
      kind: kindOf(d) as ComponentKind,
      target: input.target,
      spec,
      dependsOn: [],
      // Both found once the specs are final (finishComponents).
      references: [],
      baseDir: path.dirname(d.sources[0]!.file),
      source: ref(d.sources[0]!),
      specHash: '',
    });
    subjects.push({
      id,
      kind: kindOf(d),
      environment: input.environment,
      spec,
      region: typeof spec['region'] === 'string' ? spec['region'] : region,
    });
  }

  for (const u of defaults.unknownComponents(new Set(components.keys()))) {
    const d = sourceDocs[u.source]!;
    problems.push(
      pendingAt(overlayCandidates(d.sources), '/metadata/name', {
        document: labelOf(d.data),
        message: `ComponentInfra for ${u.id}, which is not a component of this stack`,
        rule: 'reference',
      }),
    );
  }

  for (const v of evaluatePolicies(
    rules.map((r) => r.rule),
    subjects,
  )) {
    const p = pendingAt(candidatesOf.get(v.subject.id)!, `/spec${v.pointer}`, {
      document: labelOf({ kind: v.subject.kind, metadata: { name: v.subject.id.split('/')[1] } }),
      message: v.message,
      rule: `policy:${v.rule.name}`,
    });
    (v.advisory ? warnings : problems).push(p);
  }

  // Fields naming a component by id, in components and in the stack's other documents (Observability's topic):
  // checked, and made valueFrom references or attachments.
  const stackDocs = input.docs.filter((d) => !isComponentKind(kindOf(d)) && typeof kindOf(d) === 'string');
  const typed = resolveTypedReferences(
    [...components.values(), ...stackDocs.map((d) => ({ id: d.key, kind: kindOf(d), spec: specOf(d) }))],
    components,
  );
  for (const [id, found] of typed.problems) {
    const c = components.get(id);
    const d = c ? undefined : stackDocs.find((x) => x.key === id)!;
    for (const f of found)
      problems.push(
        pendingAt(c ? candidatesOf.get(id)! : overlayCandidates(d!.sources), f.pointer, {
          document: c ? labelOfComponent(c) : labelOf(d!.data),
          message: f.message,
          rule: f.rule,
        }),
      );
  }
  if (input.target === 'aws')
    problems.push(
      ...addAwsPlatform({
        docs: input.docs,
        stack: String((input.stack.data as { metadata?: { name?: unknown } }).metadata?.name ?? ''),
        environment: input.environment,
        components,
        services,
        attachments: typed.attachments,
        regionOf: (c) => (typeof c.spec['region'] === 'string' ? c.spec['region'] : (region ?? 'us-east-1')),
        stackSource: ref(input.stack),
        stackDir: input.dir,
        reportComponent: (id, pointer, message) =>
          problems.push(
            pendingAt(candidatesOf.get(id)!, pointer, { document: labelOfComponent(components.get(id)!), message, rule: 'aws' }),
          ),
      }),
    );
  finishComponents(components.values());

  // Dependencies: explicit (component and service level) and implicit (valueFrom).
  const index = new DependencyIndex(components.values());
  for (const d of input.docs.filter((x) => kindOf(x) === 'Service')) {
    for (const f of index.checkServiceDeps((specOf(d)['dependsOn'] ?? []) as string[]))
      problems.push(pendingAt(overlayCandidates(d.sources), f.pointer, { document: labelOf(d.data), message: f.message, rule: f.rule }));
  }
  const serviceDeps = new Map(
    input.docs
      .filter((x) => kindOf(x) === 'Service')
      .map((x) => [nameOf(x), index.validServiceDeps((specOf(x)['dependsOn'] ?? []) as string[])]),
  );
  for (const c of components.values()) {
    const r = index.resolve(c, serviceDeps.get(c.service) ?? []);
    // A component that attaches itself to a load balancer deploys after it.
    const attachedTo = (typed.attachments.get(c.id) ?? []).map((a) => a.to);
    c.dependsOn = [...new Set([...r.dependsOn, ...attachedTo])].sort();
    const candidates = candidatesOf.get(c.id)!;
    for (const f of r.problems)
      problems.push(pendingAt(candidates, f.pointer, { document: `${c.kind}/${c.name}`, message: f.message, rule: f.rule }));
  }

  // The output each valueFrom names must be one its component's kind declares (and the target makes).
  const kinds = new Map([...components.values()].map((c) => [c.id, c.kind as string]));
  for (const c of components.values()) {
    for (const f of checkOutputs(c.references, kinds, input.schemas, input.target))
      problems.push(pendingAt(candidatesOf.get(c.id)!, f.pointer, { document: `${c.kind}/${c.name}`, message: f.message, rule: f.rule }));
  }
  // Other documents may name outputs too (Security's IAM resources); the defaults are checked above, merged into the components they apply to.
  for (const d of input.docs) {
    const kind = kindOf(d);
    if (isComponentKind(kind) || kind === 'InfraDefaults' || kind === 'ServiceInfraDefaults' || kind === 'ComponentInfra') continue;
    const refs = collectReferences(specOf(d));
    for (const f of [...index.checkReferences(refs), ...checkOutputs(refs, kinds, input.schemas, input.target)])
      problems.push(pendingAt(overlayCandidates(d.sources), f.pointer, { document: labelOf(d.data), message: f.message, rule: f.rule }));
  }
  return { services, components, problems, warnings, policyRules: rules.map((r) => r.rule) };
}

/** The references and the hash of each component, from its final spec (after typed references are rewritten). */
function finishComponents(components: Iterable<DesiredComponent>): void {
  for (const c of components) {
    c.references = collectReferences(c.spec);
    c.specHash = hashOf({ kind: c.kind, target: c.target, spec: withoutDependsOn(c.spec) });
  }
}

const labelOfComponent = (c: DesiredComponent): string => `${c.kind}/${c.name}`;

/** The top-level spec field a pointer of a component document is under (`/spec/a/b` -> `a`); '' outside its spec. */
function specField(pointer: string): string {
  if (!pointer.startsWith('/spec/')) return '';
  return pointer.slice('/spec/'.length).split('/')[0]!.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `dependsOn` orders the work; it does not change the resource, so it is not part of the hash. */
function withoutDependsOn(spec: Spec): Spec {
  const { dependsOn: _ignored, ...rest } = spec;
  return rest;
}
