/**
 * The fast parser (js-yaml, parse-fast.ts) and the parser with positions (`yaml`, parse.ts)
 * must give the same documents: which one reads a file is an implementation detail (aliases,
 * errors and a few constructs send a file to `yaml`), so it must never change the data. Checked
 * on every YAML file of the repository and on a generated corpus: a seeded generator writes a
 * few hundred files with nested maps and lists, scalars of many kinds, block scalars, anchors,
 * aliases, merge keys and several documents, and js-yaml alone (loadWithJsYaml) is compared with
 * `yaml` alone, and production (parseFast) with `yaml`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, walk } from '../../test/helpers/testdir.js';
import { jsYamlDiffers, loadWithJsYaml, parseFast } from './parse-fast.js';
import { parseYamlFile } from './parse.js';
import { seeded } from '../../test/helpers/seeded.mjs';

/** What each parser makes of `text`; `jsYaml` is the error message when js-yaml refuses it. */
function readBoth(text: string): {
  jsYaml: unknown[] | string;
  yaml: unknown[];
  yamlProblems: string[];
  fast: unknown[];
  fastProblems: string[];
} {
  let jsYaml: unknown[] | string;
  try {
    jsYaml = loadWithJsYaml('f.yaml', text).map((d) => d.data);
  } catch (err) {
    jsYaml = String((err as Error).message).split('\n')[0]!;
  }
  const careful = parseYamlFile('f.yaml', text);
  const fast = parseFast('f.yaml', text);
  return {
    jsYaml,
    yaml: careful.documents.map((d) => d.data),
    yamlProblems: careful.problems.map((p) => p.message),
    fast: fast.docs.map((d) => d.data),
    fastProblems: fast.problems.map((p) => p.message),
  };
}

/**
 * Asserts that production gives `yaml`'s documents and problems, and that js-yaml alone gives
 * them too unless it refuses the text or the fast path would not trust it (jsYamlDiffers).
 * Returns whether js-yaml's own documents were compared.
 */
function expectAgreement(text: string): boolean {
  const r = readBoth(text);
  const label = `---- text ----\n${text}`;
  expect(r.fast, label).toStrictEqual(r.yaml);
  expect(r.fastProblems, label).toEqual(r.yamlProblems);
  if (typeof r.jsYaml === 'string' || jsYamlDiffers(text)) return false;
  expect(r.yamlProblems, label).toEqual([]);
  expect(r.jsYaml, label).toStrictEqual(r.yaml);
  return true;
}

describe('both parsers read the YAML files of the repository alike', () => {
  const files = ['test/fixtures', 'examples']
    .flatMap((d) => walk(path.join(repoRoot, d)))
    .filter((f) => /\.ya?ml$/.test(f) && !f.includes(`${path.sep}.deployer${path.sep}`));

  it('finds the fixtures and examples', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files.map((f) => [path.relative(repoRoot, f)]))('%s', (rel) => {
    expect(expectAgreement(readFileSync(path.join(repoRoot, rel), 'utf8'))).toBe(true);
  });
});

/** A seeded generator, so that a failing text can be written again. */
const rng = seeded;

/** Plain scalars of every kind the core schema (and YAML 1.1, and js-yaml's own schema) know. */
const PLAIN = [
  '0',
  '7',
  '-3',
  '+12',
  '007',
  '-0',
  '+0',
  '12345678901234567890',
  '0o17',
  '0o',
  '0x1F',
  '0xff',
  '-0x1F',
  '+0x1F',
  '0b101',
  '1_000',
  '0777',
  '08',
  '1.5',
  '-1.5',
  '+1.5',
  '.5',
  '-.5',
  '+.5',
  '5.',
  '1e3',
  '1E3',
  '1e+3',
  '2.5e-3',
  '.5e3',
  '1.e3',
  '1e',
  '1.7976931348623157e309',
  '0.1',
  '.inf',
  '-.Inf',
  '+.INF',
  '.nan',
  '.NaN',
  'inf',
  'nan',
  'NaN',
  'Infinity',
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  'tRue',
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'n',
  'null',
  'Null',
  'NULL',
  '~',
  'nULL',
  'web',
  'hello world',
  'a:b',
  'http://example.com/x?y=1#frag',
  'key@host',
  '100%',
  '1.2.3',
  '12:30:45',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '-dash',
  'x - y',
  'café',
  'emoji 😀',
  'a#b',
  'semi;colon',
  '/path/to/file',
  'C:\\dir',
  "it's",
  'say "hi"',
  '<<x',
  '=',
];
/** Quoted scalars: escapes, the empty string, what would be something else unquoted. */
const QUOTED = [
  '""',
  "''",
  '"123"',
  "'true'",
  '"null"',
  '"~"',
  '"a: b"',
  "'it''s'",
  '"line\\nbreak"',
  '"tab\\there"',
  '"\\u00e9\\x41\\\\"',
  '"\\"quoted\\""',
  '"\\/ slash"',
  '"\\0 nul"',
  '"\\e esc"',
  '"\\N\\_\\L\\P"',
  '"\\U0001F600"',
  "'# not a comment'",
  '" lead and trail "',
  "'  spaced  '",
  '"<<"',
];
/** Keys, each a different property name in both parsers (`1` and `"1"` would be the same one). */
const KEYS = [
  'name',
  'port',
  'image',
  'env',
  'tags',
  'a b',
  'key.with.dots',
  'k-1',
  'x_y',
  '"quoted key"',
  "'single'",
  '1',
  '-2',
  '0x1F',
  '1.5',
  'true',
  'False',
  '.inf',
  'café',
  '"a: b"',
  '"<<"',
];
/** Rarely: keys the fast path hands to `yaml` (jsYamlDiffers), to check that production still agrees. */
const RARE_KEYS = ['~', 'null', '!!null ""', '? explicit', ''];

class Generator {
  private readonly r: () => number;
  private anchors: Array<{ name: string; map: boolean }> = [];
  private anchorCount = 0;
  private aliasBudget = 0;

  constructor(seed: number) {
    this.r = rng(seed);
  }

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  private chance(p: number): boolean {
    return this.r() < p;
  }

  /** A file of one or more documents. */
  file(): string {
    const docs: string[] = [];
    const n = 1 + this.int(this.chance(0.3) ? 4 : 1);
    for (let i = 0; i < n; i++) {
      this.anchors = [];
      this.aliasBudget = 4;
      const kind = this.r();
      const body =
        kind < 0.8
          ? this.blockMap(0, 0)
          : kind < 0.88
            ? this.blockSeq(0, 0)
            : kind < 0.94
              ? `${this.flow(0)}\n`
              : kind < 0.97
                ? `${this.scalar(false)}\n`
                : '# only a comment\n';
      const start = i > 0 || this.chance(0.3) ? '---\n' : '';
      const end = this.chance(0.1) ? '...\n' : '';
      docs.push(`${start}${this.chance(0.2) ? '# a comment\n' : ''}${body}${end}`);
    }
    const text = docs.join('');
    // Some editors write CRLF line ends.
    return this.chance(0.05) ? text.replace(/\n/g, '\r\n') : text;
  }

  private scalar(inFlow: boolean): string {
    const s = this.chance(0.7) ? this.pick(PLAIN) : this.pick(QUOTED);
    // In a flow collection a plain scalar must not hold an indicator of the collection.
    if (inFlow && /[,[\]{}#]|: |^[-?:]/.test(s)) return '"flow"';
    return s;
  }

  /** `&name ` (or nothing), and what makes the anchor usable: called once its node is written, so no alias is inside it. */
  private anchor(map: boolean): [string, () => void] {
    if (!this.chance(0.25)) return ['', () => undefined];
    const name = `a${this.anchorCount++}`;
    return [`&${name} `, () => this.anchors.push({ name, map })];
  }

  /** An alias of one of the first `known` anchors (default: all written so far), if any is left in the budget. */
  private alias(mapOnly: boolean, known = this.anchors.length): string | undefined {
    const candidates = this.anchors.slice(0, known).filter((a) => !mapOnly || a.map);
    if (candidates.length === 0 || this.aliasBudget <= 0) return undefined;
    this.aliasBudget--;
    return `*${this.pick(candidates).name}`;
  }

  private flow(depth: number): string {
    if (depth > 2 || this.chance(0.4)) return this.scalar(true);
    if (this.chance(0.5)) {
      const items = Array.from({ length: this.int(4) }, () => this.flow(depth + 1));
      return `[${items.join(', ')}]`;
    }
    const keys = this.keys(this.int(4));
    return `{${keys.map((k) => `${k}: ${this.flow(depth + 1)}`).join(', ')}}`;
  }

  private keys(n: number): string[] {
    const out = new Set<string>();
    while (out.size < n) out.add(this.chance(0.01) ? this.pick(RARE_KEYS) : this.chance(0.5) ? this.pick(KEYS) : `k${this.int(50)}`);
    return [...out];
  }

  /**
   * The value of a map entry (`inMap`) or sequence item after its indicator, at `indent`;
   * nested collections are indented by `indent + 2`.
   */
  private value(depth: number, indent: number, inMap: boolean): string {
    const pad = ' '.repeat(indent + 2);
    const roll = this.r();
    if (roll < 0.08) {
      const a = this.alias(false);
      if (a) return ` ${a}\n`;
    }
    if (depth < 4 && roll < 0.42) {
      const map = roll < 0.3;
      const [anchor, done] = this.anchor(map);
      // A sequence in a map may be indented as much as its key.
      const inner = !map && inMap && this.chance(0.3) ? indent : indent + 2;
      const body = map ? this.blockMap(depth + 1, indent + 2) : this.blockSeq(depth + 1, inner);
      done();
      return `${anchor ? ` ${anchor.trim()}` : ''}\n${body}`;
    }
    if (roll < 0.52) {
      const header = this.pick(['|', '|-', '|+', '>', '>-', '>+', '|2', '>1']);
      // An indentation indicator gives the content's indentation relative to the parent's.
      const inner = /\d/.test(header) ? ' '.repeat(indent + Number(header.slice(-1))) : pad;
      const lines = Array.from({ length: 1 + this.int(3) }, (_, i) =>
        i > 0 && this.chance(0.2)
          ? ''
          : `${i > 0 && this.chance(0.2) ? '  ' : ''}${this.pick(['text', 'more words here', 'x: y', '# not a comment', '- not a list', 'tail  '])}`,
      );
      const trailing = this.chance(0.3) ? '\n' : '';
      return ` ${header}\n${lines.map((l) => (l === '' ? '' : `${inner}${l}`)).join('\n')}\n${trailing}`;
    }
    if (roll < 0.58) return ` ${this.pick(['word one', 'plain'])}\n${pad}continued on the next line\n`;
    if (roll < 0.62) return ` "quoted across\n${pad}two lines"\n`;
    if (roll < 0.72) {
      // A flow collection may go on over several lines, indented more than its key.
      const flow = this.chance(0.2) ? this.flow(depth).replace(/, /g, `,\n${pad}`) : this.flow(depth);
      const [anchor, done] = this.anchor(flow.startsWith('{'));
      done();
      return ` ${anchor}${flow}\n`;
    }
    const [anchor, done] = this.anchor(false);
    const s = this.scalar(false);
    done();
    return ` ${anchor}${s}${this.chance(0.1) ? ' # trailing comment' : ''}\n`;
  }

  private blockMap(depth: number, indent: number): string {
    const pad = ' '.repeat(indent);
    // A merge key may be written before the entries: it may only use the anchors written before the map.
    const known = this.anchors.length;
    const entries = this.keys(1 + this.int(4)).map((k) => {
      if (k.startsWith('? ')) return `${pad}${k}\n${pad}:${this.value(depth, indent, true)}`;
      return `${pad}${k}:${this.value(depth, indent, true)}`;
    });
    // A merge key, somewhere among the entries: of an alias, a list of aliases, or an inline map.
    if (this.chance(0.35)) {
      const a = this.alias(true, known);
      const b = this.alias(true, known);
      const inline = `{${this.keys(1 + this.int(3))
        .map((k) => `${k}: ${this.scalar(true)}`)
        .join(', ')}}`;
      const merge = a && b && this.chance(0.5) ? `[${a}, ${b}]` : a && this.chance(0.7) ? a : inline;
      entries.splice(this.int(entries.length + 1), 0, `${pad}<<: ${merge}\n`);
    }
    if (this.chance(0.1)) entries.splice(this.int(entries.length + 1), 0, `${pad}# between entries\n`);
    return entries.join('');
  }

  private blockSeq(depth: number, indent: number): string {
    const pad = ' '.repeat(indent);
    return Array.from({ length: 1 + this.int(3) }, () => {
      if (depth < 4 && this.chance(0.25)) {
        // A map as an item, its first entry on the dash's line.
        const body = this.blockMap(depth + 1, indent + 2);
        return `${pad}- ${body.slice(indent + 2)}`;
      }
      return `${pad}-${this.value(depth, indent, false)}`;
    }).join('');
  }
}

describe('what js-yaml alone reads otherwise', () => {
  it.each([
    [
      '-.5, 0b101, +0x1F, -0 and an overflowing float, resolved as the core schema says',
      'a: -.5\nb: 0b101\nc: +0x1F\nd: -0\ne: 1e999\nf: 0o17\n',
    ],
    ['yes/no and octals like 0777, which are YAML 1.1 only', 'a: yes\nb: Off\nc: 0777\nd: 1_000\n'],
  ])('agrees on %s', (_label, text) => {
    expect(jsYamlDiffers(text)).toBe(false);
    expect(expectAgreement(text)).toBe(true);
  });

  it.each([
    ['plain null keys', 'a:\n  null: x\nb: {~: y}\n'],
    ['an empty key in a flow map', '{: x}\n'],
    ['a key tagged !!null', '!!null "": x\n'],
    ['an explicit sequence key', '? [a]\n: x\n'],
    ['a %YAML 1.1 directive', '%YAML 1.1\n---\na: yes\nb: 0777\n'],
  ])('sends %s to `yaml`', (_label, text) => {
    const yamlDocs = parseYamlFile('f.yaml', text).documents.map((d) => d.data);
    expect(loadWithJsYaml('f.yaml', text).map((d) => d.data)).not.toStrictEqual(yamlDocs);
    expect(jsYamlDiffers(text)).toBe(true);
    expect(parseFast('f.yaml', text).docs.map((d) => d.data)).toStrictEqual(yamlDocs);
  });
});

describe('both parsers read a generated corpus alike', () => {
  const texts = Array.from({ length: 400 }, (_, i) => new Generator(1000 + i).file());

  it('compares js-yaml with `yaml` on most of it (the rest goes to `yaml` in production)', () => {
    const compared = texts.filter((t) => expectAgreement(t)).length;
    expect(compared).toBeGreaterThan(texts.length * 0.8);
  });

  it('exercises anchors, aliases, merge keys, block scalars and several documents', () => {
    const all = texts.join('\n');
    for (const construct of [
      '&a',
      '*a',
      '<<: *',
      '<<: [*',
      '<<: {',
      '|-',
      '>+',
      '|2',
      '\n---\n',
      '.nan',
      '0o17',
      '"\\u00e9',
      '\r\n',
      ':\n  - ',
    ])
      expect(all).toContain(construct);
    expect(texts.filter((t) => jsYamlDiffers(t)).length).toBeGreaterThan(5);
  });
});
