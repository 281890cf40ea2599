/**
 * The dashboard's files: the page at `/`, its style sheet and icon, and the browser modules
 * compiled from client/ by `npm run build` into dist/server/dashboard/client/ (found from the
 * package root, so the server finds them whether it runs from src/ under vitest or from dist/).
 * The files are public (the page holds no data; the API it calls asks for a token), and every
 * answer here carries a Content-Security-Policy that allows the page's own files only: no
 * inline script or style, nothing from elsewhere, no framing, no form posting anywhere.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { distFile } from '../../package-info.js';
import type { ServerContext } from '../context.js';
import { errorBody } from '../http-errors.js';
import { ICON_SVG, INDEX_HTML } from './page.js';
import { STYLES_CSS } from './styles.js';

/** Where the compiled browser modules are. */
export const CLIENT_DIR = distFile(path.join('server', 'dashboard', 'client'));

/** The policy of every dashboard answer: its own files, and the API on its own origin. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  // Forms are handled by the page's code; without it a form must not send a token anywhere.
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What a browser module's name may be: no path, no dot file, only the compiled modules. */
const MODULE_NAME = /^[a-z][a-z0-9-]*\.js$/;

const HTML = 'text/html; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const SVG = 'image/svg+xml';

/** Registers the dashboard's routes in `scope` (a scope of their own: its hook adds the security headers to these answers only). */
export async function registerDashboardRoutes(scope: FastifyInstance, _ctx: ServerContext): Promise<void> {
  scope.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-frame-options', 'DENY');
    // Revalidated on each load, so a new build is what the browser runs.
    void reply.header('cache-control', 'no-cache');
    return payload;
  });
  const page = { config: { permission: 'public' as const }, schema: { hide: true } };
  const send = (reply: FastifyReply, type: string, body: string | Buffer): FastifyReply => reply.type(type).send(body);
  scope.get('/', page, (_request, reply) => send(reply, HTML, INDEX_HTML));
  scope.get('/dashboard/app.css', page, (_request, reply) => send(reply, CSS, STYLES_CSS));
  scope.get('/dashboard/icon.svg', page, (_request, reply) => send(reply, SVG, ICON_SVG));
  scope.get<{ Params: { file: string } }>('/dashboard/:file', page, async (request, reply) => {
    const name = request.params.file;
    const missing = (detail: string[] = []): FastifyReply =>
      reply.status(404).send(errorBody('NOT_FOUND', `no dashboard file ${name}`, detail));
    if (!MODULE_NAME.test(name)) return missing();
    try {
      return send(reply, JS, await readFile(path.join(CLIENT_DIR, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // The page's own entry module missing means the browser code was never compiled.
      return missing(name === 'main.js' ? [`${CLIENT_DIR} has no compiled dashboard: run npm run build`] : []);
    }
  });
}
