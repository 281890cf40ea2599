/**
 * Parse one YAML file into documents, keeping where every value was written so that a
 * validation error can name `file:line:col`.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import type { SourceLocation, ValidationProblem } from '../errors.js';
import { escapePointer } from '../model/pointer.js';

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

export function parseYamlFile(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const problems: ValidationProblem[] = [];
  const documents: ParsedDocument[] = [];
  const at = (offset: number): SourceLocation => {
    const p = lineCounter.linePos(offset);
    return { file, line: p.line, col: p.col };
  };

  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
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
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return; // empty document
    const positions = new Map<string, SourceLocation>();
    collectPositions(doc.contents as Node, '', positions, at);
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      problems.push({ location: at(start), path: '', message: firstLine(String((err as Error).message ?? err)), rule: 'yaml' });
      return;
    }
    documents.push({ data, docIndex, source: at(start), positions });
  });
  return { file, documents, problems };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function collectPositions(
  node: Node | null,
  pointer: string,
  out: Map<string, SourceLocation>,
  at: (offset: number) => SourceLocation,
): void {
  if (!node) return;
  if (node.range && !out.has(pointer)) out.set(pointer, at(node.range[0]));
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const child = `${pointer}/${escapePointer(key)}`;
      const keyNode = pair.key as Node | null;
      if (keyNode?.range) out.set(child, at(keyNode.range[0]));
      collectPositions(pair.value as Node | null, child, out, at);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => collectPositions(item as Node | null, `${pointer}/${i}`, out, at));
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
