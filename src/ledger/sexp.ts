/**
 * S-expressions as `ledger export --format sexp` writes them (export.ts): a reader of that
 * subset of Scheme data (strings with \" \\ \n escapes, numbers, #t and #f, symbols, lists,
 * dotted pairs, vectors) and the mapping of an export back to its records, so that `ledger
 * import` reads the sexp format too. A malformed text is refused naming the line.
 */
import { InvalidInputError } from '../errors.js';

export type Datum = string | number | boolean | { symbol: string } | { vector: Datum[] } | { pair: [Datum, Datum] } | Datum[];

interface Token {
  text: string;
  line: number;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  const re = /;[^\n]*|"(?:\\.|[^"\\])*"|#\(|[()]|[^\s()";]+|"|\n/g;
  let line = 1;
  for (const m of text.matchAll(re)) {
    const t = m[0];
    if (t === '\n') line++;
    else if (!t.startsWith(';')) out.push({ text: t, line });
    line += t === '\n' ? 0 : (t.match(/\n/g) ?? []).length;
  }
  return out;
}

/** The one datum of `text`; `where` names the text in a refusal. */
export function readSexp(text: string, where: string): Datum {
  const list = tokens(text);
  let i = 0;
  const fail = (message: string, at?: Token): never => {
    throw new InvalidInputError(`${where}: line ${at?.line ?? list.at(-1)?.line ?? 1}: ${message}`, ['Nothing was imported.']);
  };
  const datum = (): Datum => {
    const t = list[i++];
    if (!t) return fail('the text ends inside an expression');
    if (t.text === '(' || t.text === '#(') {
      const items: Datum[] = [];
      let tail: Datum | undefined;
      while (list[i]?.text !== ')') {
        if (i >= list.length) fail(`the ${t.text} opened here is never closed`, t);
        if (list[i]!.text === '.') {
          i++;
          tail = datum();
          if (list[i]?.text !== ')') fail('a dotted pair has one datum after its dot', list[i]);
        } else items.push(datum());
      }
      i++;
      if (t.text === '#(') return { vector: items };
      if (tail === undefined) return items;
      if (items.length !== 1) return fail('a dotted pair has one datum before its dot', t);
      return { pair: [items[0]!, tail] };
    }
    if (t.text === ')') return fail('a ) closes nothing', t);
    if (t.text === '"') return fail('a string is never closed', t);
    if (t.text.startsWith('"')) return JSON.parse(t.text) as string;
    if (t.text === '#t' || t.text === '#f') return t.text === '#t';
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t.text)) return Number(t.text);
    return { symbol: t.text };
  };
  const result = datum();
  if (i < list.length) fail('more follows the expression', list[i]);
  return result;
}

const kebabToCamel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Scheme data as JSON: an alist an object (string or symbol keys), a vector an array, #f null for the fields that may be null. */
function toJson(d: Datum, key?: string): unknown {
  if (d === false) return key === 'completed' || key === 'parentId' ? null : false;
  if (Array.isArray(d)) return Object.fromEntries(d.map((entry) => field(entry)));
  if (typeof d === 'object' && 'vector' in d) return d.vector.map((x) => toJson(x));
  if (typeof d === 'object' && 'symbol' in d) return d.symbol;
  if (typeof d === 'object' && 'pair' in d) return toJson(d.pair[1]);
  return d;
}

function field(entry: Datum): [string, unknown] {
  if (typeof entry !== 'object' || entry === null || !('pair' in entry)) return ['', entry];
  const [k, v] = entry.pair;
  const name = typeof k === 'string' ? k : typeof k === 'object' && 'symbol' in k ? kebabToCamel(k.symbol) : String(k);
  return [name, toJson(v, name)];
}

/** The JSON document of a sexp export (what parseJsonExport checks), from its text. */
export function sexpExportAsJson(text: string, where: string): unknown {
  const doc = readSexp(text, where);
  if (!Array.isArray(doc) || (doc[0] as { symbol?: string })?.symbol !== 'deployer-ledger') return {};
  const out: Record<string, unknown> = { format: 'deployer-ledger' };
  for (const part of doc.slice(1)) {
    if (typeof part === 'object' && part !== null && 'pair' in part) {
      const [name, value] = field(part);
      out[name] = value;
    } else if (Array.isArray(part) && typeof part[0] === 'object' && part[0] !== null && 'symbol' in part[0]) {
      const records = part.slice(1).map((r) => (Array.isArray(r) ? Object.fromEntries(r.slice(1).map(field)) : r));
      out[part[0].symbol] = records;
    }
  }
  return out;
}
