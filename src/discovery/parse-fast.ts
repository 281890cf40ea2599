/**
 * Parsing for speed: js-yaml without source positions (about 2.5 times faster than `yaml`
 * with them), YAML 1.2 core schema like `yaml`'s default. Positions are computed later, and
 * only for files that have problems (locate.ts). A file that uses aliases, or that js-yaml
 * refuses, is parsed by `yaml` instead, which limits alias expansion and reports the error
 * with its exact position; one that nests too deeply is refused before `yaml` recurses into it.
 */
import jsYaml from 'js-yaml';
import type { ValidationProblem } from '../errors.js';
import { parseYamlFile } from './parse.js';

export interface FastDocument {
  docIndex: number;
  data: unknown;
}

export interface FastParse {
  docs: FastDocument[];
  /** Problems of the file itself (syntax, hostile content), already located. */
  problems: ValidationProblem[];
}

/** An alias (`*name`) anywhere a YAML node may start: these files go through the careful parser. */
const ALIAS = /(^|[\s[{,:-])\*[^\s,\]}]/m;
/** Deeper than this, a document is refused (and our own recursive walks stay safe). */
export const MAX_DEPTH = 64;

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > limit) return true;
    if (v !== null && typeof v === 'object') for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  return false;
}

/** Flow collections (`[`, `{`) opened and not yet closed, beyond which `yaml` is not even tried: it recurses, slowly. */
const MAX_FLOW_OPEN = 10_000;

function flowNestingExceeds(text: string, limit: number): boolean {
  let open = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++open > limit) return true;
    } else if ((c === 0x5d || c === 0x7d) && open > 0) open--;
  }
  return false;
}

function careful(display: string, text: string): FastParse {
  if (flowNestingExceeds(text, MAX_FLOW_OPEN)) return { docs: [], problems: [nestingProblem(display)] };
  const parsed = parseYamlFile(display, text);
  return { docs: parsed.documents.map((d) => ({ docIndex: d.docIndex, data: d.data })), problems: parsed.problems };
}

export function parseFast(display: string, text: string): FastParse {
  try {
    return checked(display, parseAny(display, text));
  } catch (err) {
    // Stack exhaustion on pathological nesting is a property of the file, not a crash.
    if (err instanceof RangeError) return { docs: [], problems: [nestingProblem(display)] };
    throw err;
  }
}

function parseAny(display: string, text: string): FastParse {
  const docs: FastDocument[] = [];
  try {
    let i = 0;
    jsYaml.loadAll(
      text,
      (data) => {
        if (data !== null && data !== undefined) docs.push({ docIndex: i, data });
        i++;
      },
      { schema: jsYaml.CORE_SCHEMA, filename: display },
    );
  } catch (err) {
    if (err instanceof RangeError) throw err;
    // js-yaml stops at its maxDepth (100 levels, beyond ours): no need for `yaml` to recurse through it.
    if (err instanceof jsYaml.YAMLException && err.reason.startsWith('nesting exceeded maxDepth')) return { docs: [], problems: [nestingProblem(display)] };
    return careful(display, text);
  }
  // Aliases (js-yaml shares them, unbounded) are expanded by `yaml`, which limits them.
  return ALIAS.test(text) ? careful(display, text) : { docs, problems: [] };
}

function checked(display: string, result: FastParse): FastParse {
  const deep = result.docs.filter((d) => depthExceeds(d.data, MAX_DEPTH));
  if (deep.length === 0) return result;
  return { docs: result.docs.filter((d) => !deep.includes(d)), problems: [...result.problems, nestingProblem(display)] };
}

function nestingProblem(display: string): ValidationProblem {
  return { location: { file: display, line: 1, col: 1 }, path: '', message: `a document nests deeper than ${MAX_DEPTH} levels`, rule: 'nesting' };
}
