/**
 * Which file a value of a merged document came from: a base document and its overlays, or,
 * for a component's effective spec, also the defaults layers under it. A problem is reported
 * where the value that causes it was written.
 */
import type { SourceDoc } from './read-documents.js';
import type { PendingProblem } from './locate.js';

/** One place a document's values may come from; `map` turns a pointer of the merged document into one of this source. */
export interface Candidate {
  source: SourceDoc;
  map: (pointer: string) => string | undefined;
}

const identity = (p: string): string => p;

export function overlayCandidates(sources: SourceDoc[]): Candidate[] {
  // Overlays first: they win over the base for the values they set.
  return [...sources].reverse().map((source) => ({ source, map: identity }));
}

function segments(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** How many leading segments of `pointer` exist in `data`. */
function depthIn(data: unknown, pointer: string): number {
  let node = data;
  let depth = 0;
  for (const seg of segments(pointer)) {
    if (node === null || typeof node !== 'object' || !(seg in (node as object))) break;
    node = (node as Record<string, unknown>)[seg];
    depth++;
  }
  return depth;
}

/** The candidate that wrote the deepest part of `pointer` (earlier candidates win ties). */
export function attribute(candidates: Candidate[], pointer: string): { source: SourceDoc; pointer: string } {
  let best = { source: candidates[0]!.source, pointer, depth: -1 };
  for (const c of candidates) {
    const mapped = c.map(pointer);
    if (mapped === undefined) continue;
    // Depth in segments of `pointer`: the extra prefix a mapping adds (/spec/components/<Kind>) does not count.
    const depth = depthIn(c.source.data, mapped) - (segments(mapped).length - segments(pointer).length);
    if (depth > best.depth) best = { source: c.source, pointer: mapped, depth };
  }
  return best;
}

type Described = Omit<PendingProblem, 'file' | 'display' | 'docIndex' | 'pointer' | 'document'> & { document?: string | undefined };

export function pendingAt(candidates: Candidate[], pointer: string, problem: Described): PendingProblem {
  const at = attribute(candidates, pointer);
  const { document, ...rest } = problem;
  return {
    ...rest,
    ...(document === undefined ? {} : { document }),
    file: at.source.file,
    display: at.source.display,
    docIndex: at.source.docIndex,
    pointer: at.pointer,
    path: problem.path ?? pointer,
  };
}
