/** Canonical JSON and hashes: the same data always hashes the same, whatever its key order. */
import { hash } from 'node:crypto';

/** JSON with object keys sorted at every level; `undefined` members are dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256(text: string | Uint8Array): string {
  // The one-shot form: no Hash object per call (the ledger hashes every row it appends).
  return hash('sha256', text, 'hex');
}

export function hashOf(value: unknown): string {
  return sha256(canonicalJson(value));
}
