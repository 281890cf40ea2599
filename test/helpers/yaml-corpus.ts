/**
 * A seeded generator of YAML files for the parser agreement tests (src/discovery/parsers-agree.test.ts):
 * nested maps and lists, scalars of many kinds, block scalars, anchors, aliases, merge keys and
 * several documents; the same seed writes the same file.
 */
import { seeded } from './seeded.mjs';

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

export class Generator {
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
