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
import { Generator } from '../../test/helpers/yaml-corpus.js';

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
    // The aws target's golden files are what a test writes, not what deployer reads.
    .filter((f) => /\.ya?ml$/.test(f) && !f.includes(`${path.sep}.deployer${path.sep}`) && !f.includes(`${path.sep}aws-golden${path.sep}`));

  it('finds the fixtures and examples', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files.map((f) => [path.relative(repoRoot, f)]))('%s', (rel) => {
    expect(expectAgreement(readFileSync(path.join(repoRoot, rel), 'utf8'))).toBe(true);
  });
});

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
