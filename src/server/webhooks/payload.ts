/**
 * Reading a webhook's JSON body, which comes from outside and may hold anything: each value is
 * checked where it is read, and a wrong one is refused as invalid input naming its place in the
 * body (`deployment.environment`), so the sender (and GitHub's delivery log) shows what to fix
 * and nothing is written.
 */
import { InvalidInputError } from '../../errors.js';
import { isoTime } from '../../ledger/index.js';

/** A JSON object as parsed. */
export type JsonObject = Record<string, unknown>;

const NOTHING = ['Nothing was recorded.'];

/** Whether `v` is a JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body parsed as a JSON object, or a refusal. */
export function parseBody(raw: Buffer): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new InvalidInputError(`the body is not JSON: ${(e as Error).message}`, NOTHING);
  }
  if (!isObject(parsed)) throw new InvalidInputError('the body is not a JSON object', NOTHING);
  return parsed;
}

/** `o[key]`, which must be an object; `where` names it in a refusal. */
export function objectAt(o: JsonObject, key: string, where: string): JsonObject {
  const v = o[key];
  if (!isObject(v)) throw new InvalidInputError(`${where} is missing or not an object`, NOTHING);
  return v;
}

/** `o[key]` if it is an object, else undefined. */
export function optionalObject(o: JsonObject | undefined, key: string): JsonObject | undefined {
  const v = o?.[key];
  return isObject(v) ? v : undefined;
}

/** `o[key]`, which must be a non-empty string. */
export function stringAt(o: JsonObject, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') throw new InvalidInputError(`${where} is missing or not a non-empty string`, NOTHING);
  return v;
}

/** `o[key]` if it is a non-empty string; a value of another type is refused (it is not what the sender meant). */
export function optionalString(o: JsonObject | undefined, key: string, where: string): string | undefined {
  const v = o?.[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new InvalidInputError(`${where} is not a string`, NOTHING);
  return v;
}

/** `o[key]` as an id: GitHub's ids are numbers (a string of digits is taken as well). */
export function idAt(o: JsonObject, key: string, where: string): string {
  const v = o[key];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  throw new InvalidInputError(`${where} is missing or not a numeric id`, NOTHING);
}

/** `o[key]`, an ISO 8601 time with a zone, as UTC ISO (what the ledger stores). */
export function timeAt(o: JsonObject, key: string, where: string): string {
  return isoTime(where, stringAt(o, key, where));
}

/** `o[key]` as UTC ISO if it is there, else undefined. */
export function optionalTime(o: JsonObject | undefined, key: string, where: string): string | undefined {
  const v = optionalString(o, key, where);
  return v === undefined ? undefined : isoTime(where, v);
}

/** A user's login (`sender.login`, `creator.login`), if there is one. */
export function loginOf(o: JsonObject | undefined, key: string): string | undefined {
  const login = optionalObject(o, key)?.['login'];
  return typeof login === 'string' && login !== '' ? login : undefined;
}
