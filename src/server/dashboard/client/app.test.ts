/**
 * @vitest-environment jsdom
 *
 * The dashboard page's behaviour in jsdom over a scripted API (a fake fetch): the token sent
 * as Bearer only when given and kept in sessionStorage, the server's error messages shown,
 * one list failing while the others still show, a deployment followed through its event
 * stream to its end, a 409 naming the lock's holder, and a stream that ends without its end.
 * The browser test (test/e2e/dashboard.test.ts) does the same over the real server in Chromium.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { INDEX_HTML } from '../page.js';
import { TOKEN_KEY } from './api.js';
import { boot, type Dashboard } from './app.js';

type Handler = (init: RequestInit) => Response | Promise<Response>;

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const unauthenticated = (): Response =>
  json(401, { error: { code: 'UNAUTHENTICATED', message: 'authentication required: send Authorization: Bearer <token>', details: [] } });

const RUN = {
  id: 'run-1',
  kind: 'deploy',
  stack: 'buckets',
  environment: 'dev',
  status: 'running',
  startedAt: '2026-03-01T10:00:00Z',
  endedAt: null,
  summary: null,
  error: null,
  note: null,
};
const STARTED = { run: RUN, links: { self: '/api/v1/runs/run-1', events: '/api/v1/runs/run-1/events' } };
const STACKS = { stacks: [{ name: 'buckets', environments: [{ name: 'dev', lock: null, drift: null }] }] };
const METRICS = {
  from: '2026-02-01T00:00:00Z',
  to: '2026-03-01T00:00:00Z',
  metrics: { frequency: [{ group: 'all', value: 1, unit: 'per-day', band: 'elite', counted: 30, notes: [] }] },
};

let routes: Map<string, Handler>;
let calls: { url: string; init: RequestInit }[];
let page: Dashboard | undefined;

/** A fake of the API: `METHOD path` (query left out) to a handler; the token check as the server does it. */
function api(token: string | null, extra: Record<string, Handler> = {}): void {
  const authed =
    (h: Handler): Handler =>
    (init) =>
      token === null || (init.headers as Record<string, string>)['authorization'] === `Bearer ${token}` ? h(init) : unauthenticated();
  routes = new Map(
    Object.entries({
      'GET /api/v1/deployments': () => json(200, { deployments: [] }),
      'GET /api/v1/metrics': () => json(200, METRICS),
      'GET /api/v1/stacks': () => json(200, STACKS),
      ...extra,
    }).map(([k, h]) => [k, authed(h)]),
  );
}

beforeEach(() => {
  document.body.innerHTML = /<body>([\s\S]*)<\/body>/.exec(INDEX_HTML)![1]!;
  window.sessionStorage.clear();
  calls = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const h = routes.get(`${init.method ?? 'GET'} ${url.split('?')[0]}`);
    return h ? h(init) : json(404, { error: { code: 'NOT_FOUND', message: `no route ${url}` } });
  });
});
afterEach(() => {
  page?.stop();
  page = undefined;
  vi.unstubAllGlobals();
});

const $ = <T extends HTMLElement = HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;
const errors = (): string[] => [...document.querySelectorAll('#errors li')].map((li) => li.textContent ?? '');

async function useToken(token: string): Promise<void> {
  $<HTMLInputElement>('#token').value = token;
  $<HTMLFormElement>('#token-form').requestSubmit();
  await page!.idle();
}

/** A stream of the API's event-stream format that the test writes to. */
function eventStream(): { response: Response; send(event: string, data: unknown): void; close(): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const enc = new TextEncoder();
  return {
    response: new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    send: (event, data) =>
      controller.enqueue(enc.encode(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)),
    close: () => controller.close(),
  };
}

const until = (check: () => boolean): Promise<void> => vi.waitFor(() => expect(check()).toBe(true));

describe('the dashboard page', () => {
  it('sends no token until given one, shows the server’s refusal with a hint, then the lists with the token it keeps for the tab', async () => {
    api('dpl_secret');
    page = boot(document);
    await page.idle();
    // One refused request, not one per list: the server counts failed authentications per address.
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/stacks']);
    expect(calls.every((c) => !('authorization' in (c.init.headers as Record<string, string>)))).toBe(true);
    expect($('#errors').hidden).toBe(false);
    expect(errors()).toEqual([
      'authentication required: send Authorization: Bearer <token> (enter an API token above: deployer token create --role viewer)',
    ]);
    expect($('#auth-state').textContent).toBe('no token: trying without (insecure-local)');

    await useToken(' dpl_secret ');
    expect(window.sessionStorage.getItem(TOKEN_KEY)).toBe('dpl_secret');
    expect($<HTMLInputElement>('#token').value).toBe('');
    expect(errors()).toEqual([]);
    expect($('#errors').hidden).toBe(true);
    expect($('#tiles .tile[data-metric="frequency"]').dataset['band']).toBe('elite');
    expect($('#stacks-body tr').dataset['stack']).toBe('buckets');
    expect($<HTMLSelectElement>('#deploy-stack').value).toBe('buckets');
    expect($<HTMLSelectElement>('#deploy-environment').value).toBe('dev');
    expect($<HTMLButtonElement>('#deploy-button').disabled).toBe(false);
    expect($('#metrics-window').textContent).toBe('2026-02-01 00:00:00 UTC to 2026-03-01 00:00:00 UTC');

    $('#forget').click();
    await page.idle();
    expect(window.sessionStorage.getItem(TOKEN_KEY)).toBeNull();
    expect(errors()).toHaveLength(1);
  });

  it('refreshes periodically while the server accepts the token, and stops asking once it refuses it', async () => {
    vi.useFakeTimers();
    try {
      api(null);
      page = boot(document, { refreshEveryMs: 30_000 });
      await vi.advanceTimersByTimeAsync(0);
      const stacksCalls = (): number => calls.filter((c) => c.url === '/api/v1/stacks').length;
      expect(stacksCalls()).toBe(1);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(stacksCalls()).toBe(2);
      routes.set('GET /api/v1/stacks', () => unauthenticated());
      await vi.advanceTimersByTimeAsync(30_000);
      expect(stacksCalls()).toBe(3);
      await vi.advanceTimersByTimeAsync(90_000);
      expect(stacksCalls()).toBe(3);
      // A new token is tried at once, and the periodic refresh resumes with it.
      routes.set('GET /api/v1/stacks', () => json(200, STACKS));
      await useToken('dpl_new');
      expect(stacksCalls()).toBe(4);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(stacksCalls()).toBe(5);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows one list’s error while drawing the others, asks for all environments’ metrics when told, and says when the server is unreachable', async () => {
    api(null, {
      'GET /api/v1/metrics': () =>
        json(400, { error: { code: 'INVALID_INPUT', message: 'from is after to', details: ['give from before to'] } }),
    });
    page = boot(document);
    await page.idle();
    expect(errors()).toEqual(['metrics: from is after to (give from before to)']);
    expect($('#stacks-body tr').dataset['stack']).toBe('buckets');

    const scope = $<HTMLSelectElement>('#metrics-scope');
    scope.value = 'all';
    scope.dispatchEvent(new Event('change'));
    await page.idle();
    expect(calls.some((c) => c.url === '/api/v1/metrics?environment=all')).toBe(true);

    routes.set('GET /api/v1/stacks', () => new Response('<html>proxy error</html>', { status: 502, statusText: 'Bad Gateway' }));
    routes.set('GET /api/v1/deployments', () => Promise.reject(new TypeError('Failed to fetch')));
    await page.refresh();
    expect(errors()).toEqual([
      'stacks: 502 Bad Gateway',
      'deployments: cannot reach the server: Failed to fetch',
      'metrics: from is after to (give from before to)',
    ]);
  });

  it('deploys, follows the run’s events to its end, and refreshes the lists after it', async () => {
    const stream = eventStream();
    let deployBody: unknown;
    api(null, {
      'POST /api/v1/deploy': (init) => ((deployBody = JSON.parse(String(init.body))), json(202, STARTED)),
      'GET /api/v1/runs/run-1/events': () => stream.response,
    });
    page = boot(document);
    await page.idle();
    $<HTMLFormElement>('#deploy-form').requestSubmit();
    await until(() => $('#run-status').dataset['status'] === 'running');
    expect(deployBody).toEqual({ stack: 'buckets', environment: 'dev' });
    expect($<HTMLButtonElement>('#deploy-button').disabled).toBe(true);

    const actions = [
      { id: 'store/images', action: 'create' },
      { id: 'store/logs', action: 'create' },
      { id: 'store/old', action: 'no-op' },
    ];
    stream.send('lock-acquired', { type: 'lock-acquired', locks: [] });
    stream.send('plan', { type: 'plan', plan: { actions } });
    stream.send('component-start', { type: 'component-start', id: 'store/images', action: 'create' });
    stream.send('component-progress', {
      type: 'component-progress',
      id: 'store/images',
      progress: { op: 'create', resourceType: 'pulumi-nodejs:dynamic:Resource', resourceName: 'images', phase: 'started' },
    });
    const row = (id: string): HTMLElement => $(`#run-components [data-component="${id}"]`);
    await until(() => row('store/images')?.dataset['state'] === 'running');
    expect(row('store/logs').dataset['state']).toBe('pending');
    expect(row('store/old')).toBeNull();
    expect(row('store/images').querySelector('.detail')!.textContent).toBe('create images (pulumi-nodejs:dynamic:Resource): started');

    stream.send('component-done', {
      type: 'component-done',
      report: { id: 'store/images', action: 'create', result: 'created', durationMs: 2500, engine: true },
    });
    stream.send('component-notice', { type: 'component-notice', id: 'store/logs', message: 'waiting for an earlier pulumi' });
    stream.send('component-done', {
      type: 'component-done',
      report: { id: 'store/logs', action: 'create', result: 'failed', reason: 'disk full', engine: true },
    });
    for (const e of [
      { type: 'lock-wait', holder: { lockedBy: 'x' } },
      { type: 'lock-lost', reason: 'expired' },
      { type: 'setup', message: 'provisioning' },
      { type: 'notice', message: 'recovered' },
      { type: 'warnings', warnings: [{ message: 'deprecated field' }] },
      { type: 'rollback-start', reason: 'store/logs failed' },
      { type: 'rollback-done', rollback: { ok: true } },
      { type: 'something-new' },
      { type: 'summary', summary: { counts: { created: 1, failed: 1, skipped: 0 } } },
    ]) {
      stream.send(e.type, e);
    }
    stream.send('broken', 'not json');
    const before = calls.filter((c) => c.url.startsWith('/api/v1/deployments')).length;
    stream.send('end', {
      ...RUN,
      status: 'failed',
      endedAt: '2026-03-01T10:01:00Z',
      error: { code: 'APPLY_FAILED', message: '1 component failed', details: [] },
    });
    await until(() => $('#run-status').dataset['status'] === 'failed');
    expect($('#run-status .message').textContent).toBe('run run-1 of buckets in dev: 1 component failed');
    expect(row('store/images').querySelector('.state')!.className).toBe('state result result-created');
    expect(row('store/images').querySelector('.detail')!.textContent).toBe('2.5 s');
    expect(row('store/logs').dataset['result']).toBe('failed');
    expect(row('store/logs').querySelector('.detail')!.textContent).toBe('disk full');
    expect([...document.querySelectorAll('#run-notes li')].map((li) => li.textContent)).toEqual([
      'lock acquired',
      'plan: 2 to change, 1 unchanged',
      'waiting for the lock held by x',
      'lock lost: expired',
      'provisioning',
      'recovered',
      'warning: deprecated field',
      'rolling back: store/logs failed',
      'rollback done',
      'summary: 1 created, 1 failed',
      'an event the page cannot read: broken',
    ]);
    await until(() => calls.filter((c) => c.url.startsWith('/api/v1/deployments')).length > before);
    await until(() => !$<HTMLButtonElement>('#deploy-button').disabled);
  });

  it('says who holds the lock when the deployment is refused with 409', async () => {
    const holder = {
      lockKey: 'stack:buckets:env:dev',
      lockId: 'L-9',
      lockedBy: 'alice@runner',
      lockedAt: '2026-03-01T10:00:00Z',
      expiresAt: '2026-03-01T11:00:00Z',
      expired: false,
    };
    api(null, {
      'POST /api/v1/deploy': () =>
        json(409, { error: { code: 'LOCK_HELD', message: 'stack:buckets:env:dev is locked by alice@runner', details: [] }, holder }),
    });
    page = boot(document);
    await page.idle();
    await page.run.deploy('buckets', 'dev');
    expect($('#run-status').dataset['status']).toBe('refused');
    expect($('#run-status .message').textContent).toBe('stack:buckets:env:dev is locked by alice@runner');
    const held = $('#run-notes li.held');
    expect(held.dataset['holder']).toBe('alice@runner');
    expect(held.textContent).toBe(
      'the lock is held by alice@runner since 2026-03-01 10:00:00 UTC until 2026-03-01 11:00:00 UTC · lock id L-9',
    );

    routes.set('POST /api/v1/deploy', () =>
      json(409, { error: { code: 'LOCK_HELD', message: 'held', details: [] }, holder: { ...holder, expired: true } }),
    );
    await page.run.deploy('buckets', 'dev');
    expect($('#run-notes li.held').textContent).toContain('(expired: its holder likely died)');

    routes.set('POST /api/v1/deploy', () =>
      json(400, { error: { code: 'INVALID_INPUT', message: 'no stack nope is served here', details: ['served: buckets'] } }),
    );
    await page.run.deploy('nope', 'dev');
    expect($('#run-status').dataset['status']).toBe('error');
    expect($('#run-status .message').textContent).toBe('no stack nope is served here (served: buckets)');
  });

  it('asks for the run when its stream ends without its end, and says when it is still running', async () => {
    let status = 'succeeded';
    api(null, {
      'POST /api/v1/deploy': () => json(202, STARTED),
      'GET /api/v1/runs/run-1/events': () => new Response('event: lock-acquired\ndata: {"type":"lock-acquired"}\n\n', { status: 200 }),
      'GET /api/v1/runs/run-1': () => json(200, { ...RUN, status, note: status === 'succeeded' ? 'nothing to do' : null }),
    });
    page = boot(document);
    await page.run.deploy('buckets', 'dev');
    expect($('#run-status').dataset['status']).toBe('succeeded');
    expect($('#run-status .message').textContent).toBe('run run-1 of buckets in dev: nothing to do');
    status = 'running';
    await page.run.deploy('buckets', 'dev');
    expect($('#run-status').dataset['status']).toBe('error');
    expect($('#run-status .message').textContent).toMatch(/lost the event stream of run run-1, which is still running/);
  });
});
