/**
 * Parse one YAML file into documents, keeping where every value was written so that a
 * validation error can name `file:line:col`. A leading byte-order mark is dropped and YAML 1.1
 * merge keys (`<<: *base`) are resolved, as the fast parser (parse-fast.ts) does.
 */
import type { Node } from 'yaml';
import type { SourceLocation, ValidationProblem } from '../errors.js';
import { escapePointer } from '../model/pointer.js';
import { stripBom } from '../util/text.js';
import { yamlLib } from '../util/yaml-lib.js';

export { escapePointer };

/** One YAML document of a file, as plain data plus positions. */
export interface ParsedDocument {
  data: unknown;
  docIndex: number;
  source: SourceLocation;
  /** JSON pointer -> where its key (or sequence item) was written. */
  positions: Map<string, SourceLocation>;
}

export interface ParsedFile {
  file: string;
  documents: ParsedDocument[];
  problems: ValidationProblem[];
}

/** Hostile-input limits: an alias bomb or a runaway document fails instead of eating memory. */
const MAX_ALIAS_COUNT = 100;

export { stripBom };

/**
 * Parses every document of `text` (the content of `file`, shown in messages as given) with
 * positions; documents with errors are left out and their errors become problems.
 */
export function parseYamlFile(file: string, rawText: string): ParsedFile {
  const text = stripBom(rawText);
  const lineCounter = new (yamlLib().LineCounter)();
  const problems: ValidationProblem[] = [];
  const documents: ParsedDocument[] = [];
  const at = (offset: number): SourceLocation => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, col: p.col };
  };

  let docs;
  try {
    // merge: `<<` keys are resolved as YAML 1.1 tools (and js-yaml in parse-fast.ts) do, not kept as a literal key.
    docs = yamlLib().parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  } catch (err) {
    problems.push({ location: { file, line: 1, col: 1 }, path: '', message: `cannot parse YAML: ${String(err)}`, rule: 'yaml' });
    return { file, documents, problems };
  }
  const list = Array.isArray(docs) ? docs : [docs];

  list.forEach((doc, docIndex) => {
    for (const e of doc.errors) {
      problems.push({ location: at(e.pos[0]), path: '', message: firstLine(e.message), rule: `yaml:${e.code}` });
    }
    if (doc.errors.length > 0) return;
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    if (doc.contents === null || (yamlLib().isScalar(doc.contents) && doc.contents.value === null)) return; // empty document
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      problems.push({ location: at(start), path: '', message: firstLine(String((err as Error).message ?? err)), rule: 'yaml' });
      return;
    }
    // After toJS: the data says which keys merge keys brought in (and an alias bomb has been refused).
    const positions = new Map<string, SourceLocation>();
    collectPositions(doc.contents as Node, data, '', positions, at);
    documents.push({ data, docIndex, source: at(start), positions });
  });
  return { file, documents, problems };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/** A merge key (`<<` written plain), which `yaml` resolves to a symbol when merging is on. */
function isMergeKey(key: unknown): boolean {
  return yamlLib().isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';
}

/** A map key as `toJS` names the property (a null key becomes ""). */
function keyName(key: unknown): string {
  if (yamlLib().isScalar(key)) return key.value === null ? '' : String(key.value);
  return String(key);
}

/**
 * Records where each pointer of `node` was written. `value` is the node's data (from toJS): the
 * keys a merge key brought in are not written in this map, so they are located at the `<<`
 * that brought them (unless written explicitly), and `/<<` itself is never a field.
 */
function collectPositions(
  node: Node | null,
  value: unknown,
  pointer: string,
  out: Map<string, SourceLocation>,
  at: (offset: number) => SourceLocation,
): void {
  if (!node) return;
  if (node.range && !out.has(pointer)) out.set(pointer, at(node.range[0]));
  const data = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  if (yamlLib().isMap(node)) {
    const merges: Node[] = [];
    const written = new Set<string>();
    for (const pair of node.items) {
      if (!yamlLib().isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      if (isMergeKey(keyNode)) {
        merges.push(keyNode!);
        continue;
      }
      const key = keyName(pair.key);
      written.add(key);
      const child = `${pointer}/${escapePointer(key)}`;
      if (keyNode?.range) out.set(child, at(keyNode.range[0]));
      const own = data && Object.prototype.hasOwnProperty.call(data, key) ? data[key] : undefined;
      collectPositions(pair.value as Node | null, own, child, out, at);
    }
    // What merges brought in is located at the (first, usually only) merge key of the map.
    const merge = merges[0]?.range;
    if (merge && data) {
      for (const key of Object.keys(data)) {
        const child = `${pointer}/${escapePointer(key)}`;
        if (!written.has(key) && !out.has(child)) out.set(child, at(merge[0]));
      }
    }
  } else if (yamlLib().isSeq(node)) {
    const items = Array.isArray(value) ? (value as unknown[]) : [];
    node.items.forEach((item, i) => collectPositions(item as Node | null, items[i], `${pointer}/${i}`, out, at));
  }
}

/** The closest recorded position for a pointer (walks up to its parents). */
export function locate(positions: Map<string, SourceLocation>, pointer: string, fallback: SourceLocation): SourceLocation {
  let p = pointer;
  while (true) {
    const hit = positions.get(p);
    if (hit) return hit;
    if (p === '') return fallback;
    p = p.slice(0, p.lastIndexOf('/'));
  }
}
