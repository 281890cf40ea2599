/**
 * The dashboard's side of the REST API: the token it sends (kept in sessionStorage, so it is
 * gone when the tab closes and never reaches a URL or a cookie), requests that turn an error
 * answer into an ApiError carrying the server's own message, and the shapes of the answers the
 * page reads. Without a token nothing is sent, which a server run with --insecure-local accepts.
 */
/// <reference lib="dom" />

/** Where the token is kept for the tab's lifetime. */
export const TOKEN_KEY = 'deployer.token';

/** The token the user gave in this tab, or '' (none: try without, for --insecure-local). */
export function storedToken(): string {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    // Storage disabled (a privacy setting): the page works, it just forgets the token.
    return '';
  }
}

/** Keeps `token` for the tab (an empty one forgets it). */
export function storeToken(token: string): void {
  try {
    if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
    else window.sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // see storedToken
  }
}

/** An answer other than 2xx, or no answer at all (status 0), with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string[] = [],
    /** The parsed body of the answer (a 409 carries the lock's holder). */
    readonly body: unknown = undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The headers of a request: JSON, and the bearer token when there is one. */
export function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: json ? 'application/json' : 'text/event-stream' };
  const token = storedToken();
  if (token) h['authorization'] = `Bearer ${token}`;
  return h;
}

/** The ApiError an error answer stands for: `{error: {code, message, details}}`, or the status alone. */
export async function errorOf(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const message = typeof e?.message === 'string' ? e.message : `${response.status} ${response.statusText || 'error'}`;
  const details = Array.isArray(e?.details) ? e.details.filter((d): d is string => typeof d === 'string') : [];
  return new ApiError(response.status, typeof e?.code === 'string' ? e.code : 'HTTP_ERROR', message, details, body);
}

/** Sends a request; rejects with an ApiError for an error answer or an unreachable server. */
export async function send(
  path: string,
  init: { method?: string; json?: unknown; stream?: boolean; signal?: AbortSignal } = {},
): Promise<Response> {
  const h = headers(!init.stream);
  if (init.json !== undefined) h['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers: h,
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
      // The token is the only credential: no cookie is ever needed.
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'UNREACHABLE', `cannot reach the server: ${(e as Error).message}`);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** GET `path` as JSON. */
export async function getJson<T>(path: string): Promise<T> {
  return (await (await send(path)).json()) as T;
}

/** What an error says to the user, with a hint when the server wants a token. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const hint = e.status === 401 && !storedToken() ? ' (enter an API token above: deployer token create --role viewer)' : '';
    return `${e.message}${e.details.length ? ` (${e.details.join('; ')})` : ''}${hint}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** One deployment as the ledger records it. */
export interface Deployment {
  id: string;
  stack: string;
  service: string;
  version: string;
  environment: string;
  type: string;
  started: string;
  completed: string | null;
  status: string;
  initiator: string;
  parentId: string | null;
  operation?: string;
}

export type Band = 'elite' | 'high' | 'medium' | 'low';

/** One group of a DORA metric. */
export interface MetricGroup {
  group: string;
  value: number | null;
  unit: 'per-day' | 'seconds' | 'percent';
  band: Band | null;
  counted: number;
  notes: string[];
}

export interface MetricsAnswer {
  from: string;
  to: string;
  metrics: Record<string, MetricGroup[]>;
}

/** Who holds a lock. */
export interface LockHolder {
  lockKey: string;
  lockId: string;
  lockedBy: string;
  lockedAt: string;
  expiresAt: string;
  expired: boolean;
  metadata?: Record<string, string>;
}

/** What one service's drift record holds (reconcile/ledger-records.ts): its counts and first findings. */
export interface ServiceDrift {
  cycle?: string;
  reason?: string;
  components?: number;
  findings?: number;
  critical?: number;
  report?: { component?: string }[];
}

/** The last drift check of a stack's environment: a reconcile cycle, its counts summed over its services. */
export interface DriftSummary {
  at: string;
  /** How the cycle ended: clean, drifted, failed, skipped ... */
  cycle: string;
  /** Components checked, findings, and how many of them critical. */
  components: number;
  findings: number;
  critical: number;
  services: { service: string; drift: ServiceDrift }[];
}

export interface StackAnswer {
  name: string;
  environments: { name: string; lock: LockHolder | null; drift: DriftSummary | null }[];
}

/** A background run of the server. */
export interface RunView {
  id: string;
  kind: string;
  stack: string;
  environment: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  startedAt: string;
  endedAt: string | null;
  summary: { counts?: Record<string, number>; ok?: boolean } | null;
  error: { code: string; message: string; details: string[] } | null;
  note: string | null;
}

/** What `POST /api/v1/deploy` answers when the run started. */
export interface Started {
  run: RunView;
  links: { self: string; events: string };
}
