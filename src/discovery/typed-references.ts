/**
 * Fields that name another component by its id (an ALB's targets and its access-log bucket, a
 * queue's dead-letter queue, a Lambda's event sources ...). Their schema marks them with
 * `x-deployer-reference` (schema-markers: secret-schema.ts's MarkedFields), which says what the
 * field may name and which way the dependency goes:
 *
 * - `{"kinds": {"S3": "bucketName"}}`: this component uses the one it names, which must be one of
 *   those kinds. A component id written there becomes a `valueFrom` of that kind's output, so it
 *   is resolved, ordered and hashed as every `valueFrom` is (this component deploys after it).
 * - `{"attach": ["MicroService"]}`: the component named attaches itself to this one (a service
 *   registers its target group and listener rule on the load balancer that routes to it, which
 *   must exist first): the named component depends on this one, and is told how it is routed.
 *
 * A `valueFrom` written in a `kinds` field must name one of its kinds too. Pure: it works on the
 * specs it is given and returns what it found and the problems (unknown component, wrong kind).
 */
import { isValueFrom } from '../model/documents.js';
import type { ReferenceFinding } from './references.js';
import { markedFields } from './secret-schema.js';
import { article } from '../util/text.js';
import { closest } from './suggest.js';

/** The schema keyword of a field that names a component. */
export const REFERENCE_MARKER = 'x-deployer-reference';

/** What a reference field's marker says. */
export interface ReferenceMarker {
  /** Kinds the field may name, each with the output a component id written there stands for. */
  kinds?: Record<string, string>;
  /** Kinds that attach themselves to this component when named (the dependency goes the other way). */
  attach?: string[];
}

/** A component that attaches itself to another (its load balancer), and the entry that names it. */
export interface Attachment {
  /** The component it attaches to (`edge/lb`). */
  to: string;
  /** That component's kind (`ALB`). */
  kind: string;
  /** The entry naming it, without the id: routing settings (paths, hosts, port, health check ...). */
  entry: Record<string, unknown>;
}

/** A document that may name components (a component, or a stack document such as Observability), as this pass needs it. */
export interface ReferencingDocument {
  /** A component's id, or another document's `Kind/name`. */
  id: string;
  kind: string;
  spec: Record<string, unknown>;
}

export interface TypedReferenceResult {
  /** The components that attach themselves, by id: where, and how. */
  attachments: Map<string, Attachment[]>;
  /** By document id: what is wrong, at a pointer of the document. */
  problems: Map<string, ReferenceFinding[]>;
}

const isMarker = (v: unknown): v is ReferenceMarker => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at a JSON pointer of `root` and a setter for it. */
function at(root: unknown, pointer: string): { value: unknown; set: (v: unknown) => void } {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = segments.pop()!;
  let parent = root as Record<string, unknown>;
  for (const s of segments) parent = parent[s] as Record<string, unknown>;
  return { value: parent[last], set: (v) => (parent[last] = v) };
}

/**
 * Checks every reference field of `documents` against the stack's `components` and rewrites
 * those a component id was written in (the specs are changed in place): a `kinds` field to a
 * `valueFrom`; an `attach` field is left as written and reported as an attachment of the
 * component it names.
 */
export function resolveTypedReferences(
  documents: Iterable<ReferencingDocument>,
  components: ReadonlyMap<string, { kind: string }>,
): TypedReferenceResult {
  const attachments = new Map<string, Attachment[]>();
  const problems = new Map<string, ReferenceFinding[]>();
  const ids = [...components.keys()];
  for (const c of documents) {
    const report = (pointer: string, message: string): void => {
      problems.set(c.id, [...(problems.get(c.id) ?? []), { pointer: `/spec${pointer}`, message, rule: 'reference' }]);
    };
    for (const [pointer, marker] of markedFields().marked({ kind: c.kind, spec: c.spec }, REFERENCE_MARKER)) {
      if (!isMarker(marker) || !pointer.startsWith('/spec/')) continue;
      const field = at(c.spec, pointer.slice('/spec'.length));
      const written = field.value;
      const named = typeof written === 'string' ? written : isValueFrom(written) ? written.valueFrom.component : undefined;
      // An object with routing is an entry whose own `component` field is checked (it is marked too).
      if (named === undefined) continue;
      const where = typeof written === 'string' ? pointer.slice('/spec'.length) : `${pointer.slice('/spec'.length)}/valueFrom/component`;
      const target = components.get(named);
      if (!target) {
        const hint = closest(named, ids);
        report(where, `unknown component "${named}"${hint ? `; did you mean "${hint}"?` : ''}`);
        continue;
      }
      // A valueFrom in an attach field is a value of any component (a target group ARN ...): nothing attaches.
      if (marker.attach && typeof written !== 'string') continue;
      if (marker.attach) {
        if (!marker.attach.includes(target.kind)) {
          report(where, `${named} is ${article(target.kind)} ${target.kind}; this field names ${list(marker.attach)}`);
          continue;
        }
        const parentPointer = pointer.slice('/spec'.length).replace(/\/component$/, '');
        const entry = pointer.endsWith('/component') ? (at(c.spec, parentPointer).value as Record<string, unknown>) : {};
        const { component: _named, ...routing } = entry;
        attachments.set(named, [...(attachments.get(named) ?? []), { to: c.id, kind: c.kind, entry: routing }]);
        continue;
      }
      const kinds = marker.kinds ?? {};
      if (!Object.hasOwn(kinds, target.kind)) {
        report(where, `${named} is ${article(target.kind)} ${target.kind}; this field names ${list(Object.keys(kinds))}`);
        continue;
      }
      if (typeof written === 'string') field.set({ valueFrom: { component: named, output: kinds[target.kind]! } });
    }
  }
  return { attachments, problems };
}

function list(kinds: readonly string[]): string {
  const named = kinds.map((k) => `${article(k)} ${k}`);
  return named.length <= 1 ? (named[0] ?? 'nothing') : `${named.slice(0, -1).join(', ')} or ${named.at(-1)}`;
}
