/**
 * Parsing for speed: js-yaml without source positions (about 2.5 times faster than `yaml`
 * with them). Its schema resolves plain scalars exactly as `yaml`'s YAML 1.2 core schema does
 * (js-yaml's own CORE_SCHEMA differs: `0b101`, `+0x1F`, `-.5`, `-0`) and YAML 1.1 merge keys as
 * `yaml` does with `merge: true`, so a document is the same data whichever parser reads it
 * (parsers-agree.test.ts). Positions are computed later, and only for files that have problems
 * (locate.ts). A file that uses aliases, that js-yaml refuses, or that has one of the few
 * constructs js-yaml turns into other data (see DIFFERS), is parsed by `yaml` instead, which
 * limits alias expansion and reports the error with its exact position; one that nests too
 * deeply is refused before `yaml` recurses into it.
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

/**
 * What js-yaml reads as other data than `yaml` does, whatever the schema, so these files go
 * through the careful parser. A false match costs only speed. In order: a directive (`%YAML 1.1`
 * makes `yaml` apply the 1.1 schema: yes/no booleans, 0777 octals...; `%TAG` may rename `!!`);
 * a null key, plain (`~: x`, `null: x`), tagged (`!!null`) or empty in a flow collection
 * (`{: x}`): js-yaml names the property "null", `yaml` ""; an explicit key (`? key`) or a
 * collection as a key (`[a, b]: x`), which the two stringify differently.
 */
const DIFFERS =
  /^%|(?:^|[\s[{,?:-])(?:~|null|Null|NULL)[ \t]*:(?:[\s,\]}]|$)|!!null|tag:yaml\.org,2002:null|[[{,]\s*:(?:[\s,\]}]|$)|(?:^|[\s[{,:-])\?(?:\s|$)|[\]}][ \t]*:(?:[\s,\]}]|$)/m;

/*
 * The YAML 1.2 core schema with `yaml`'s own tests and conversions (yaml/dist/schema/core), so
 * that `-.5` is -0.5 and `0b101` a string in both parsers.
 */
const CORE_NULL = /^(?:~|[Nn]ull|NULL)?$/;
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const CORE_INT_OCT = /^0o[0-7]+$/;
const CORE_INT = /^[-+]?[0-9]+$/;
const CORE_INT_HEX = /^0x[0-9a-fA-F]+$/;
const CORE_FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const CORE_FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
/** The three int and the three float patterns in one each, tested first: most scalars are neither. */
const CORE_INT_ANY = new RegExp(`${CORE_INT_OCT.source}|${CORE_INT.source}|${CORE_INT_HEX.source}`);
const CORE_FLOAT_ANY = new RegExp(`${CORE_FLOAT_NAN.source}|${CORE_FLOAT_EXP.source}|${CORE_FLOAT.source}`);

const isString = (s: unknown): s is string => typeof s === 'string';
/** Whether `s` starts as every int and float does (a digit, a sign or a dot): a cheap test before the patterns. */
function numberLike(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const c = s.charCodeAt(0);
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/** js-yaml's own merge type (`<<`); js-yaml exports it, @types/js-yaml does not declare it. */
const MERGE = (jsYaml as unknown as { types: { merge: jsYaml.Type } }).types.merge;

const SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    // Every plain scalar goes through these: the length and first-character tests spare most of
    // them the patterns (as fast as js-yaml's own types). `data` is null for an empty `!!null` node.
    new jsYaml.Type('tag:yaml.org,2002:null', {
      kind: 'scalar',
      resolve: (s: unknown) => s === null || (isString(s) && s.length <= 4 && CORE_NULL.test(s)),
      construct: () => null,
    }),
    new jsYaml.Type('tag:yaml.org,2002:bool', {
      kind: 'scalar',
      resolve: (s: unknown) => isString(s) && s.length >= 4 && s.length <= 5 && CORE_BOOL.test(s),
      construct: (s: string) => s[0] === 't' || s[0] === 'T',
    }),
    new jsYaml.Type('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (s: unknown) => numberLike(s) && CORE_INT_ANY.test(s),
      construct: (s: string) =>
        CORE_INT_OCT.test(s) ? parseInt(s.substring(2), 8) : CORE_INT_HEX.test(s) ? parseInt(s.substring(2), 16) : parseInt(s, 10),
    }),
    new jsYaml.Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (s: unknown) => numberLike(s) && CORE_FLOAT_ANY.test(s),
      construct: (s: string) =>
        CORE_FLOAT_NAN.test(s) ? (s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity) : parseFloat(s),
    }),
    MERGE,
  ],
});

/** Whether `text` has a construct js-yaml reads as other data than `yaml` (DIFFERS): the fast path gives it to `yaml`. */
export function jsYamlDiffers(text: string): boolean {
  return DIFFERS.test(text);
}

/**
 * The documents of `text` as js-yaml alone reads them, with the schema and options of the fast
 * path (empty documents left out); throws js-yaml's error. Production goes through parseFast;
 * this is for comparing the two parsers.
 */
export function loadWithJsYaml(display: string, text: string): FastDocument[] {
  const docs: FastDocument[] = [];
  let i = 0;
  jsYaml.loadAll(
    text,
    (data) => {
      if (data !== null && data !== undefined) docs.push({ docIndex: i, data });
      i++;
    },
    { schema: SCHEMA, filename: display },
  );
  return docs;
}

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

/**
 * The documents of one file (`text`, shown as `display`) and the problems of the file itself;
 * never throws for what the file contains.
 */
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
  let docs: FastDocument[];
  try {
    docs = loadWithJsYaml(display, text);
  } catch (err) {
    if (err instanceof RangeError) throw err;
    // js-yaml stops at its maxDepth (100 levels, beyond ours): no need for `yaml` to recurse through it.
    if (err instanceof jsYaml.YAMLException && err.reason.startsWith('nesting exceeded maxDepth'))
      return { docs: [], problems: [nestingProblem(display)] };
    return careful(display, text);
  }
  // Aliases (js-yaml shares them, unbounded) are expanded by `yaml`, which limits them.
  return ALIAS.test(text) || jsYamlDiffers(text) ? careful(display, text) : { docs, problems: [] };
}

function checked(display: string, result: FastParse): FastParse {
  const deep = result.docs.filter((d) => depthExceeds(d.data, MAX_DEPTH));
  if (deep.length === 0) return result;
  return { docs: result.docs.filter((d) => !deep.includes(d)), problems: [...result.problems, nestingProblem(display)] };
}

function nestingProblem(display: string): ValidationProblem {
  return {
    location: { file: display, line: 1, col: 1 },
    path: '',
    message: `a document nests deeper than ${MAX_DEPTH} levels`,
    rule: 'nesting',
  };
}
