/**
 * Fields the schemas mark with an `x-deployer-*` keyword, found in a document: those declared
 * not secret although their name says so (DynamoDB `partitionKey`, Lambda `code.s3.key`:
 * `"x-deployer-not-secret": true`), and those that name another component
 * (`x-deployer-reference`, typed-references.ts). A document is walked along its kind's schema
 * (following `$ref`, `allOf`/`anyOf`/`oneOf`, `then`/`else`, `items`, `additionalProperties`)
 * to find where its marked fields are, so a marker applies exactly to the field it is on, not
 * to every key of that name.
 */
import { COMPONENT_KINDS, isComponentKind } from '../model/documents.js';
import { escapePointer } from '../model/pointer.js';
import { loadSchemas } from './validate.js';

/** The schema keyword that marks a property whose name says secret but whose value is not one. */
export const NOT_SECRET_MARKER = 'x-deployer-not-secret';

type Schema = Record<string, unknown>;
/** A schema and the file its local `$ref`s (`#/...`) resolve in. */
interface Node {
  file: string;
  schema: Schema;
}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A schema file by its name (`S3.schema.json`), parsed; undefined when there is none. */
export type SchemaFiles = (file: string) => Schema | undefined;

/** The installed schemas (`schemas/`), as validation read them: no file is read twice in a run. */
const installedSchemas: SchemaFiles = (file) => loadSchemas().schemaOf(file.replace(/\.schema\.json$/, ''));

/**
 * The schemas, with the walk over documents. A schema's expansion (its `$ref` and combinators,
 * followed) is worked out once per field name and kept: a stack's documents of one kind walk the
 * same schemas, and following them again for each document was most of a small stack's discovery.
 */
export class MarkedFields {
  private readonly partialSpec: Schema | undefined;
  /** Expansions by schema, then by the file its `$ref`s resolve in and the field's name. */
  private readonly expansions = new WeakMap<Schema, Map<string, Node[]>>();

  constructor(private readonly files: SchemaFiles = installedSchemas) {
    this.partialSpec = this.resolve({ file: 'defs.schema.json', schema: { $ref: '#/definitions/partialSpec' } })?.schema;
  }

  /** The pointers of `data` (a document) that its kind's schema marks not secret; empty for an unknown kind. */
  pointers(data: unknown): Set<string> {
    return new Set([...this.marked(data, NOT_SECRET_MARKER)].filter(([, v]) => v === true).map(([p]) => p));
  }

  /**
   * Where `data` (a document) has a field its kind's schema marks with `keyword`, and the
   * keyword's value there (the first, should several schemas of one field carry it); empty for an unknown kind.
   */
  marked(data: unknown, keyword: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const kind = isSchema(data) ? data['kind'] : undefined;
    const root = typeof kind === 'string' ? this.files(`${kind}.schema.json`) : undefined;
    if (root) this.walk(data, [{ file: `${String(kind)}.schema.json`, schema: root }], '', '', { keyword, out });
    return out;
  }

  private walk(value: unknown, nodes: Node[], pointer: string, key: string, found: { keyword: string; out: Map<string, unknown> }): void {
    const expanded = nodes.flatMap((n) => this.expanded(n, key));
    const marker = expanded.find((n) => n.schema[found.keyword] !== undefined);
    if (pointer !== '' && marker) found.out.set(pointer, marker.schema[found.keyword]);
    if (Array.isArray(value)) {
      const items = expanded.flatMap((n) => (isSchema(n.schema['items']) ? [{ file: n.file, schema: n.schema['items'] }] : []));
      if (items.length > 0) value.forEach((v, i) => this.walk(v, items, `${pointer}/${i}`, key, found));
      return;
    }
    if (!isSchema(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const children: Node[] = [];
      for (const n of expanded) {
        const props = n.schema['properties'];
        const own = isSchema(props) ? props[k] : undefined;
        const extra = n.schema['additionalProperties'];
        if (isSchema(own)) children.push({ file: n.file, schema: own });
        else if (isSchema(extra)) children.push({ file: n.file, schema: extra });
      }
      if (children.length > 0) this.walk(v, children, `${pointer}/${escapePointer(k)}`, k, found);
    }
  }

  /** `expand` of a node, kept for the next document with a field of that name there. */
  private expanded(node: Node, key: string): Node[] {
    let byPlace = this.expansions.get(node.schema);
    if (!byPlace) this.expansions.set(node.schema, (byPlace = new Map()));
    const place = `${node.file}\0${key}`;
    let nodes = byPlace.get(place);
    if (!nodes) byPlace.set(place, (nodes = this.expand(node, key, new Set())));
    return nodes;
  }

  /**
   * A schema and every schema it stands for: its `$ref`, the branches of its combinators. A
   * partial spec (InfraDefaults' `components.<Kind>`, ComponentInfra's `spec`) stands for the
   * spec of its kind, or of every component kind when the document does not say which.
   */
  private expand(node: Node, key: string, seen: Set<Schema>): Node[] {
    if (seen.has(node.schema)) return [];
    seen.add(node.schema);
    const out: Node[] = [node];
    if (node.schema === this.partialSpec) {
      const kinds = isComponentKind(key) ? [key] : COMPONENT_KINDS;
      for (const k of kinds) {
        const spec = (this.files(`${k}.schema.json`)?.['properties'] as Schema | undefined)?.['spec'];
        if (isSchema(spec)) out.push(...this.expand({ file: `${k}.schema.json`, schema: spec }, key, seen));
      }
      return out;
    }
    const target = this.resolve(node);
    if (target) out.push(...this.expand(target, key, seen));
    for (const word of ['allOf', 'anyOf', 'oneOf']) {
      const list = node.schema[word];
      if (Array.isArray(list)) for (const s of list) if (isSchema(s)) out.push(...this.expand({ file: node.file, schema: s }, key, seen));
    }
    for (const word of ['then', 'else']) {
      const s = node.schema[word];
      if (isSchema(s)) out.push(...this.expand({ file: node.file, schema: s }, key, seen));
    }
    return out;
  }

  /** What `node`'s `$ref` (`other.schema.json#/a/b` or `#/a/b`) points to. */
  private resolve(node: Node): Node | undefined {
    const ref = node.schema['$ref'];
    if (typeof ref !== 'string') return undefined;
    const [file, fragment = ''] = ref.split('#');
    const target = file ? file : node.file;
    let at: unknown = this.files(target);
    for (const seg of fragment.split('/').filter((s) => s !== ''))
      at = isSchema(at) ? at[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    return isSchema(at) ? { file: target, schema: at } : undefined;
  }
}

let shared: MarkedFields | undefined;

/** The walker over the installed schemas (`schemas/`), which are read once per process, each parsed when first walked. */
export function markedFields(): MarkedFields {
  return (shared ??= new MarkedFields());
}

/** The pointers of `data` its kind's schema (in `schemas/`) marks not secret. */
export function notSecretPointers(data: unknown): Set<string> {
  return markedFields().pointers(data);
}
