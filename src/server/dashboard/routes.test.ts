/**
 * The dashboard's routes through fastify's inject: the page at `/` and its files with their
 * content types, the Content-Security-Policy on each, no token needed for any of them (the API
 * the page calls still wants one), and 404 for what is not one of its files. The browser
 * modules are those `npm run build` compiled into dist/ (the test suite builds before it runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../../../test/helpers/server.js';
import { CONTENT_SECURITY_POLICY } from './routes.js';

let server: TestServer;

beforeAll(async () => {
  server = await testServer();
});
afterAll(async () => {
  await server.close();
});

const get = (url: string, headers: Record<string, string> = {}) => server.app.inject({ method: 'GET', url, headers });

describe('the dashboard routes', () => {
  it('serves the page at / without a token, under a strict Content-Security-Policy', async () => {
    const r = await get('/');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.body).toMatch(/^<!doctype html>/);
    expect(r.body).toContain('<script type="module" src="/dashboard/main.js"></script>');
    expect(r.body).toContain('<link rel="stylesheet" href="/dashboard/app.css" />');
    // Nothing inline for the policy to refuse.
    expect(r.body).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
  });

  it('allows only its own origin: no inline code, nothing from elsewhere, no framing, no form posting', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self'",
      'connect-src': "'self'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'frame-ancestors': "'none'",
    });
  });

  it('serves the style sheet, the icon and the compiled browser modules with their content types', async () => {
    const css = await get('/dashboard/app.css');
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('.band-elite');
    expect(css.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);

    const icon = await get('/dashboard/icon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');

    for (const file of ['main.js', 'app.js', 'api.js', 'sse.js', 'run.js', 'view.js']) {
      const js = await get(`/dashboard/${file}`);
      expect(js.statusCode, file).toBe(200);
      expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(js.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(js.headers['cache-control']).toBe('no-cache');
    }
    // What the page loads imports its neighbours by relative URL, which the route serves.
    expect((await get('/dashboard/main.js')).body).toContain("from './app.js'");
  });

  it('answers 404 for a file that is not one of its modules, and never reads outside them', async () => {
    for (const url of [
      '/dashboard/nothing.js',
      '/dashboard/app.ts',
      '/dashboard/tsconfig.json',
      '/dashboard/..%2Fpage.js',
      '/dashboard/.hidden.js',
    ]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });

  it('needs no token for its files, a bad one is not even looked at, and the API still asks for one', async () => {
    for (const url of ['/', '/dashboard/app.css', '/dashboard/main.js']) {
      expect((await get(url, { authorization: 'Bearer dpl_not-a-token' })).statusCode, url).toBe(200);
    }
    expect((await get('/api/v1/stacks')).statusCode).toBe(401);
    expect((await get('/api/v1/stacks', server.as('viewer'))).statusCode).toBe(200);
  });

  it('answers HEAD as GET without a body', async () => {
    const r = await server.app.inject({ method: 'HEAD', url: '/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toBe('');
  });
});
