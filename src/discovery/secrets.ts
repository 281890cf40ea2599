/**
 * Literal secrets in configuration are errors: a secret is written only as a `secretRef`, so
 * that its value never reaches a plan, a log, the state, the ledger or the parse cache. Found:
 * AWS access key ids and private key blocks anywhere; under a secret-named key
 * (secret-names.ts: password, pass, token, secret, ..., or a last word `key`), any literal
 * string or number, `${env.X}` or `${var.X}` (which would write the value into the state).
 * The name rule spares the fields a schema marks not secret (secret-schema.ts) and the
 * pointers a document lists in its `deployer.io/not-secret` annotation; a listed pointer that
 * names nothing is itself an error, since it would hide a secret written there later.
 */
import { escapePointer } from '../model/pointer.js';
import { secretWord } from '../model/secret-names.js';

export interface SecretFinding {
  pointer: string;
  message: string;
  rule: string;
}

/** What `findLiteralSecrets` is told about the document: the pointers marked as not secret. */
export interface SecretOptions {
  /**
   * Pointers the name rule leaves alone: the fields the document's schema marks not secret.
   * A function is called only once the name rule finds something (most documents: never).
   */
  notSecret?: ReadonlySet<string> | (() => ReadonlySet<string>);
}

/** The annotation listing a document's false positives: JSON pointers, separated by commas or whitespace. */
export const NOT_SECRET_ANNOTATION = 'deployer.io/not-secret';
const ANNOTATION_POINTER = `/metadata/annotations/${escapePointer(NOT_SECRET_ANNOTATION)}`;

const AWS_KEY_ID = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * Literal secrets anywhere in `value` (a document, or any value); a `secretRef` or `valueFrom`
 * object is a reference, not a secret. A value takes its name from the nearest key (list items
 * from their list's). Strings and numbers are checked (`DB_PASSWORD: 12345678` is a number in
 * YAML and a password all the same); booleans carry no secret, and an empty string is no value
 * (the way to clear an inherited one), so both pass.
 */
export function findLiteralSecrets(value: unknown, options: SecretOptions = {}): SecretFinding[] {
  const out: SecretFinding[] = [];
  const marked = markedPointers(value, out);
  let schemaMarked = typeof options.notSecret === 'function' ? undefined : options.notSecret;
  const fromSchema = (): ReadonlySet<string> =>
    (schemaMarked ??= typeof options.notSecret === 'function' ? options.notSecret() : new Set());
  const exempt = (p: string): boolean => p === ANNOTATION_POINTER || marked.has(p) || fromSchema().has(p);
  const path: string[] = [];
  const pointer = (depth = path.length): string =>
    path
      .slice(0, depth)
      .map((p) => `/${escapePointer(p)}`)
      .join('');
  /** `named`: the depth of the path at which `key` is written (the list's, for its items): a mark there spares the value. */
  const check = (v: string | number, key: string, named: number): void => {
    if (typeof v === 'string' && AWS_KEY_ID.test(v))
      return void out.push({
        pointer: pointer(),
        message: 'looks like an AWS access key id: write secrets as a secretRef, never as a value',
        rule: 'secret:aws-key',
      });
    if (typeof v === 'string' && PRIVATE_KEY.test(v))
      return void out.push({
        pointer: pointer(),
        message: 'holds a private key: write secrets as a secretRef, never as a value',
        rule: 'secret:private-key',
      });
    const word = key ? secretWord(key) : undefined;
    if (word === undefined || v === '') return;
    const here = pointer();
    if (exempt(pointer(named)) || exempt(here)) return;
    if (typeof v === 'string' && (v.includes('${env.') || v.includes('${var.'))) {
      const from = v.includes('${env.') ? 'env' : 'var';
      out.push({
        pointer: here,
        message: `"${key}" takes a secret from \${${from}...}, which would write its value into the state: use {secretRef: {provider, key}}`,
        rule: `secret:${from}`,
      });
    } else {
      out.push({ pointer: here, message: literalMessage(key, word, here), rule: 'secret:literal' });
    }
  };
  const walk = (v: unknown, key: string, named: number): void => {
    if (typeof v === 'string' || typeof v === 'number') return check(v, key, named);
    if (v === null || typeof v !== 'object') return;
    if ('secretRef' in v || 'valueFrom' in v) return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        path.push(String(i));
        walk(x, key, named);
        path.pop();
      });
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      path.push(k);
      walk(x, k, path.length);
      path.pop();
    }
  };
  walk(value, '', 0);
  return out;
}

function literalMessage(key: string, word: string, pointer: string): string {
  return (
    `"${key}" is named like a secret ("${word}") and holds a literal, which would be written into the state: ` +
    `write it as {secretRef: {provider: aws-secretsmanager|env|file, key}}, or, if it is not a secret, ` +
    `list ${pointer} in the annotation metadata.annotations["${NOT_SECRET_ANNOTATION}"]`
  );
}

/**
 * The pointers a document's `deployer.io/not-secret` annotation lists. An entry that is not a
 * pointer, or names no value of the document, is reported (into `out`) at the annotation.
 */
function markedPointers(doc: unknown, out: SecretFinding[]): Set<string> {
  const annotations = (doc as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations;
  const listed = typeof annotations === 'object' && annotations !== null ? annotations[NOT_SECRET_ANNOTATION] : undefined;
  if (typeof listed !== 'string') return new Set();
  const marked = new Set<string>();
  for (const entry of listed.split(/[\s,]+/).filter((e) => e !== '')) {
    if (!entry.startsWith('/')) {
      out.push({
        pointer: ANNOTATION_POINTER,
        message: `lists "${entry}", which is not a JSON pointer: write pointers into this document such as /spec/env/NAME`,
        rule: 'secret:not-secret',
      });
    } else if (!hasValueAt(doc, entry)) {
      out.push({
        pointer: ANNOTATION_POINTER,
        message: `lists ${entry}, which names no value of this document: remove it (a stale entry would hide a secret written there later)`,
        rule: 'secret:not-secret',
      });
    } else marked.add(entry);
  }
  return marked;
}

/** Whether the JSON pointer `pointer` names a value in `doc`. */
function hasValueAt(doc: unknown, pointer: string): boolean {
  let node = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(seg) || Number(seg) >= node.length) return false;
      node = node[Number(seg)];
    } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, seg)) node = (node as Record<string, unknown>)[seg];
    else return false;
  }
  return true;
}
