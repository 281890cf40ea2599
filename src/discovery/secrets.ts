/**
 * Literal secrets in configuration are errors: a secret is written only as a `secretRef`, so
 * that its value never reaches a plan, a log, the state or the ledger. Found: AWS access key
 * ids and private key blocks anywhere; in a field named like a password, token or key, a
 * high-entropy literal or a `${env.X}` (which would write the value into the state).
 */
import { escapePointer } from '../model/pointer.js';

export interface SecretFinding {
  pointer: string;
  message: string;
  rule: string;
}

const AWS_KEY_ID = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const SECRET_NAME = /(passw(or)?d|\bpwd\b|_pwd$|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credential|auth[-_]?key)/i;
const MIN_LENGTH = 8;
/** Bits per character; English words and placeholders stay below, generated secrets above. */
const MIN_ENTROPY = 3.0;

export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Literal secrets anywhere in `value`; a `secretRef` or `valueFrom` object is a reference, not a secret. */
export function findLiteralSecrets(value: unknown): SecretFinding[] {
  const out: SecretFinding[] = [];
  const path: string[] = [];
  const pointer = (): string => path.map((p) => `/${escapePointer(p)}`).join('');
  const check = (v: string, key: string): void => {
    if (AWS_KEY_ID.test(v)) return void out.push({ pointer: pointer(), message: 'looks like an AWS access key id: write secrets as a secretRef, never as a value', rule: 'secret:aws-key' });
    if (PRIVATE_KEY.test(v)) return void out.push({ pointer: pointer(), message: 'holds a private key: write secrets as a secretRef, never as a value', rule: 'secret:private-key' });
    if (!key || !SECRET_NAME.test(key)) return;
    if (v.includes('${env.') || v.includes('${var.')) {
      const from = v.includes('${env.') ? 'env' : 'var';
      out.push({ pointer: pointer(), message: `"${key}" takes a secret from \${${from}...}, which would write its value into the state: use {secretRef: {provider, key}}`, rule: `secret:${from}` });
    } else if (v.length >= MIN_LENGTH && entropy(v) >= MIN_ENTROPY) {
      out.push({ pointer: pointer(), message: `"${key}" holds what looks like a secret: write it as {secretRef: {provider, key}}`, rule: 'secret:literal' });
    }
  };
  const walk = (v: unknown, key: string): void => {
    if (typeof v === 'string') return check(v, key);
    if (v === null || typeof v !== 'object') return;
    if ('secretRef' in v || 'valueFrom' in v) return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        path.push(String(i));
        walk(x, key);
        path.pop();
      });
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      path.push(k);
      walk(x, k);
      path.pop();
    }
  };
  walk(value, '');
  return out;
}
