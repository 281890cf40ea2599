/**
 * Documents by identity: the base documents indexed by what they define (a duplicate is a
 * problem naming both places), then this environment's overlays merged onto the documents
 * they name. A component is `<service>/<name>` whatever its kind, as the state and plan know it.
 */
import path from 'node:path';
import { isComponentKind } from '../model/documents.js';
import type { StackDoc } from './components.js';
import type { SourceDoc } from './read-documents.js';
import { mergeOverlay } from './overlay.js';
import type { Problems } from './problems.js';
import { labelOf } from './validate.js';

/** The documents of the stack after overlays, by identity. */
export type DocumentIndex = Map<string, StackDoc>;

/** How to find a document's identity: overlays live under environments/<env>/, base documents under the stack directory. */
export interface Identity {
  dir: string;
  environment: string;
  overlayFiles: ReadonlySet<string>;
}

/** The key prefix of component documents (no kind contains a space). */
const COMPONENT_KEY = 'component ';

export function keyOf(d: SourceDoc, id: Identity): string | undefined {
  return docKey(d, id.overlayFiles.has(d.file) ? path.join(id.dir, 'environments', id.environment) : id.dir);
}

/** Indexes the base documents; a second document with the key of a first is reported, not kept. */
export function indexDocuments(baseDocs: SourceDoc[], id: Identity, problems: Problems): DocumentIndex {
  const byKey: DocumentIndex = new Map();
  for (const d of baseDocs) {
    const key = keyOf(d, id);
    if (key === undefined) {
      byKey.set(`?${d.file}#${d.docIndex}`, { key: '', sources: [d], data: d.data, service: undefined });
      continue;
    }
    const first = byKey.get(key);
    if (!first) {
      byKey.set(key, { key, sources: [d], data: d.data, service: serviceOf(d, id.dir) });
      continue;
    }
    const where = whereDefined(first, problems);
    // A component is replaced only by an overlay: a second base document, even of another kind, is a mistake.
    const message = key.startsWith(COMPONENT_KEY)
      ? `duplicate component ${key.slice(COMPONENT_KEY.length)}: already defined at ${where} as ${labelOf(first.sources[0]!.data)}; a component is <service>/<name> whatever its kind, and only an overlay under environments/<env>/ changes a document`
      : `duplicate document: already defined at ${where}`;
    problems.add({
      file: d.file,
      display: d.display,
      docIndex: d.docIndex,
      pointer: '/metadata/name',
      document: labelOf(d.data),
      message,
      rule: 'unique',
    });
  }
  return byKey;
}

/** Merges each overlay onto the base document it names; an overlay of nothing, or of another kind, is reported. */
export function applyOverlays(byKey: DocumentIndex, overlays: SourceDoc[], id: Identity, problems: Problems): void {
  for (const o of overlays) {
    const key = keyOf(o, id);
    const target = key === undefined ? undefined : byKey.get(key);
    if (!target) {
      problems.add({
        file: o.file,
        display: o.display,
        docIndex: o.docIndex,
        pointer: '',
        document: labelOf(o.data),
        message: `overlay for ${labelOf(o.data)}, which no base document defines`,
        rule: 'overlay',
      });
      continue;
    }
    // Components are found by <service>/<name> alone, so the kind has to be compared here.
    const baseKind = (target.data as { kind?: unknown }).kind;
    const kind = (o.data as { kind?: unknown }).kind;
    if (kind !== baseKind) {
      const message = `an overlay cannot change a document's kind: ${key!.slice(COMPONENT_KEY.length)} is defined at ${whereDefined(target, problems)} as ${labelOf(target.sources[0]!.data)}, this overlay says ${String(kind)}`;
      problems.add({
        file: o.file,
        display: o.display,
        docIndex: o.docIndex,
        pointer: '/kind',
        document: labelOf(o.data),
        message,
        rule: 'overlay',
      });
      continue;
    }
    target.sources.push(o);
    target.data = mergeOverlay(target.data, o.data);
  }
}

function whereDefined(doc: StackDoc, problems: Problems): string {
  const f = doc.sources[0]!;
  const at = problems.locator.where(f.file, f.display, f.docIndex, '');
  return `${at.file}:${at.line}:${at.col}`;
}

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
