/**
 * The HTTP server of `deployer serve`, as a fastify instance built from a ServerContext (so
 * the tests drive it with `inject` and the CLI listens with it). Every route declares the
 * permission it needs (context.ts); one hook authenticates and checks it, another writes the
 * audit row of every action and of every refused request, and one error handler turns errors
 * into statuses (http-errors.ts). The OpenAPI document is generated from the routes' schemas.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { deployerVersion } from '../package-info.js';
import { auditedRole, Authenticator, permits, type AuthOptions } from './auth.js';
import type { ServerContext } from './context.js';
import { errorBody, handleError } from './http-errors.js';
import { InternalError } from '../errors.js';
import { registerActRoutes } from './routes/act.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerExportRoute } from './routes/export.js';
import { registerHealthRoutes } from './routes/health.js';
import { metricsOf, registerMetricsRoutes } from './routes/metrics.js';
import { registerReadRoutes } from './routes/read.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { registerDashboardRoutes } from './dashboard/routes.js';

/** How the server is built: who may use it, how large a body it takes, its logger, and TLS. */
export interface ServerOptions {
  auth: AuthOptions;
  /** Largest request body accepted, in bytes (default 1 MiB); larger ones are answered 413. */
  bodyLimit?: number;
  /** Fastify's logger: a pino instance's options, or false (the default) for none. */
  logger?: boolean | Record<string, unknown>;
  /** The addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For names the client. */
  trustProxy?: string[];
  /** TLS: PEM certificate and key. */
  https?: { cert: Buffer; key: Buffer };
}

/** Builds the server (not yet listening). */
export async function buildServer(ctx: ServerContext, o: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    // Behind no proxy unless told: the client's address is the socket's. Behind the proxies
    // named, it is the one they forward (X-Forwarded-For), for the failure limit and the audit log.
    trustProxy: o.trustProxy?.length ? o.trustProxy : false,
    ...(o.https ? { https: o.https } : {}),
  }) as unknown as FastifyInstance;
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'deployer', version: deployerVersion, description: 'The REST API of `deployer serve`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  const auth = new Authenticator(o.auth, ctx.access);
  // Every route says who may use it: one without a permission is a bug, refused at start.
  app.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: unknown } | undefined)?.permission;
    if (permission === undefined) throw new InternalError(`the route ${route.method} ${route.url} declares no permission`);
  });
  app.addHook('onRequest', async (request, reply) => {
    const refusal = await authorize(auth, request, o.auth.insecureLocal);
    if (!refusal) return;
    if (refusal.retryAfterS) void reply.header('retry-after', String(refusal.retryAfterS));
    // Returning the sent reply ends the request here, whatever hooks other plugins add later.
    return reply.status(refusal.status).send(errorBody(refusal.code, refusal.message));
  });
  app.addHook('onResponse', async (request, reply) => {
    await audit(ctx, request, reply.statusCode);
  });
  // A client that hangs up before the answer: the action may have happened, so it is audited too.
  app.addHook('onRequestAbort', async (request) => {
    await audit(ctx, request, 0);
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
  registerHealthRoutes(app, ctx);
  registerMetricsRoutes(app, metricsOf(ctx));
  registerReadRoutes(app, ctx);
  registerActRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerExportRoute(app, ctx);
  // Each in a scope of its own: the webhooks read raw bodies, the dashboard serves files.
  await app.register(async (scope) => registerWebhookRoutes(scope, ctx));
  await app.register(async (scope) => registerDashboardRoutes(scope, ctx));
  app.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, () => app.swagger());
  return app;
}

type Refusal = { status: number; code: string; message: string; retryAfterS?: number };

/** Host names a browser sends for a server on loopback (a DNS-rebinding page sends its own). */
const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/** Authenticates a request to a route that needs a permission, and checks it; the refusal, if any. */
async function authorize(auth: Authenticator, request: FastifyRequest, insecureLocal: boolean): Promise<Refusal | undefined> {
  // Without authentication, only this machine may ask: a web page the user visits could
  // otherwise reach a loopback server under a name of its own (DNS rebinding).
  if (insecureLocal && !LOOPBACK_HOST.test(request.headers.host ?? '')) {
    return {
      status: 403,
      code: 'FORBIDDEN',
      message: `--insecure-local answers only requests to localhost, not to ${request.headers.host ?? 'no host'}`,
    };
  }
  if (request.is404) return undefined; // answered 404 without asking who
  const permission = request.routeOptions.config?.permission;
  if (permission === 'public' || permission === 'webhook') return undefined;
  if (permission === undefined) return { status: 500, code: 'INTERNAL', message: 'this route declares no permission' };
  const found = await auth.authenticate(request.headers.authorization, request.ip);
  if (!found.ok)
    return {
      status: found.status,
      code: found.status === 429 ? 'RATE_LIMITED' : 'UNAUTHENTICATED',
      message: found.message,
      ...(found.retryAfterS ? { retryAfterS: found.retryAfterS } : {}),
    };
  request.principal = found.principal;
  if (!permits(found.principal, permission)) {
    return { status: 403, code: 'FORBIDDEN', message: `the role ${found.principal.role} may not ${permission}` };
  }
  return undefined;
}

/** The result word of an audit row for a status. */
function resultOf(status: number): string {
  if (status < 400) return 'ok';
  if (status === 0) return 'aborted';
  if (status === 401 || status === 429) return 'unauthenticated';
  if (status === 403) return 'denied';
  if (status === 409) return 'conflict';
  if (status < 500) return 'invalid';
  return 'failed';
}

/** An audit row for every action, and for every request refused for who sent it. */
async function audit(ctx: ServerContext, request: FastifyRequest, status: number): Promise<void> {
  const action = request.routeOptions.config?.audit;
  // A 429 is not audited one by one: the address was refused for its failures, each audited.
  const refused = status === 401 || status === 403;
  if (!action && !refused) return;
  const p = request.principal;
  await ctx.access.appendAudit({
    at: new Date().toISOString(),
    actor:
      p?.actor ?? (request.routeOptions.config?.permission === 'webhook' ? `webhook:${request.auditTarget ?? 'unknown'}` : 'anonymous'),
    role: auditedRole(p),
    action: action ?? `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    target: request.auditTarget ?? '',
    source: request.ip,
    result: resultOf(status),
    status,
    detail: request.auditDetail ?? {},
  });
}
