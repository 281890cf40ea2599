/** parseYamlFile: YAML text to documents with the position of every value, and YAML problems. */
import { describe, expect, it } from 'vitest';
import { locate, parseYamlFile } from './parse.js';

const at = (line: number, col: number): { file: string; line: number; col: number } => ({ file: 'f.yaml', line, col });

describe('parseYamlFile', () => {
  it('splits a multi-document file and skips empty documents', () => {
    const text = '---\n# nothing here\n---\nkind: Service\nmetadata:\n  name: a\n---\nkind: Service\nmetadata:\n  name: b\n---\n';
    const parsed = parseYamlFile('f.yaml', text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.documents.map((d) => [d.docIndex, d.source, d.data])).toEqual([
      [1, at(4, 1), { kind: 'Service', metadata: { name: 'a' } }],
      [2, at(8, 1), { kind: 'Service', metadata: { name: 'b' } }],
    ]);
  });

  it('records where every key and list item was written, as JSON pointers', () => {
    const text = 'spec:\n  command:\n    - node\n    - x.mjs\n  env:\n    "a/b~c": 1\n';
    const positions = parseYamlFile('f.yaml', text).documents[0]!.positions;
    expect(Object.fromEntries(positions)).toEqual({
      '': at(1, 1),
      '/spec': at(1, 1),
      '/spec/command': at(2, 3),
      '/spec/command/0': at(3, 7),
      '/spec/command/1': at(4, 7),
      '/spec/env': at(5, 3),
      '/spec/env/a~1b~0c': at(6, 5),
    });
  });

  it('reports a syntax error with its code, line and column, and no document', () => {
    const parsed = parseYamlFile('f.yaml', 'kind: S3\nmetadata:\n  name: x\n bad: 1\n');
    expect(parsed.documents).toEqual([]);
    expect(parsed.problems).toEqual([
      { location: at(4, 1), path: '', message: 'All mapping items must start at the same column', rule: 'yaml:BAD_INDENT' },
    ]);
  });

  it('reports tabs used as indentation', () => {
    expect(parseYamlFile('f.yaml', 'a: 1\n\tb: 2\n').problems.map((p) => [p.location, p.rule])).toEqual([[at(2, 1), 'yaml:TAB_AS_INDENT']]);
  });

  it('reports a duplicate key at its second occurrence', () => {
    const parsed = parseYamlFile('f.yaml', 'spec:\n  tags:\n    x: "1"\n    x: "2"\n');
    expect(parsed.problems).toEqual([{ location: at(4, 5), path: '', message: 'Map keys must be unique', rule: 'yaml:DUPLICATE_KEY' }]);
  });

  it('keeps the good documents of a file when another one is broken', () => {
    const parsed = parseYamlFile('f.yaml', 'a: 1\n---\nb: [\n---\nc: 3\n');
    expect(parsed.documents.map((d) => d.data)).toEqual([{ a: 1 }, { c: 3 }]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]!.location.line).toBe(4);
  });

  it('resolves a few aliases but refuses an alias bomb', () => {
    expect(parseYamlFile('f.yaml', 'a: &x [1, 2]\nb: *x\n').documents[0]!.data).toEqual({ a: [1, 2], b: [1, 2] });
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [prev, name] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'e'],
      ['e', 'f'],
    ])
      bomb.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    const parsed = parseYamlFile('f.yaml', bomb.join('\n'));
    expect(parsed.documents).toEqual([]);
    expect(parsed.problems).toEqual([
      { location: at(1, 1), path: '', message: 'Excessive alias count indicates a resource exhaustion attack', rule: 'yaml' },
    ]);
  });

  it('reports an alias to an anchor that does not exist', () => {
    const parsed = parseYamlFile('f.yaml', 'a: *nope\n');
    expect(parsed.documents).toEqual([]);
    expect(parsed.problems.map((p) => p.message)).toEqual(['Unresolved alias (the anchor must be set before the alias): nope']);
  });
});

describe('locate', () => {
  const positions = parseYamlFile('f.yaml', 'spec:\n  env:\n    A: 1\n').documents[0]!.positions;

  it('returns the position of the pointer, or of its closest recorded parent', () => {
    expect(locate(positions, '/spec/env/A', at(9, 9))).toEqual(at(3, 5));
    expect(locate(positions, '/spec/env/MISSING/deeper', at(9, 9))).toEqual(at(2, 3));
  });

  it('falls back when nothing is recorded', () => {
    expect(locate(new Map(), '/spec/port', at(9, 9))).toEqual(at(9, 9));
  });
});
