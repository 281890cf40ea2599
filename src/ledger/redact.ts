/**
 * Personal data and credentials kept out of what `ledger export` writes (issue 13: "e-mail
 * addresses, tokens in metadata are redacted on export unless --no-redact"). The free text of
 * a record (its initiator, a rollback's reason, every string in its metadata) loses e-mail
 * addresses, the password of a URL and strings shaped like well-known tokens; a metadata entry
 * whose key names a secret (model/secret-names.ts: `api_token`, `dbPassword`) loses its value.
 */
import { isSecretName } from '../model/secret-names.js';

export const REDACTED = '[redacted]';

/** Replacements, in order: credentials in URLs before e-mail addresses (`user:pw@host.com` is not an address). */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi, `$1${REDACTED}@`],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{20,})\b/g, '[redacted token]'],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, '[redacted token]'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, '[redacted token]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[redacted token]'],
  [/\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{12,}/gi, '$1 [redacted token]'],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g, '[redacted e-mail]'],
];

/** `text` without e-mail addresses, URL passwords or tokens. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A copy of `value` (metadata) with every string redacted, and the value of each secret-named key replaced. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretName(k) ? REDACTED : redactValue(v)]));
  }
  return value;
}
