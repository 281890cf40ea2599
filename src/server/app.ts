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
import { Authenticator, permits, type AuthOptions } from './auth.js';
import type { ServerContext } from './context.js';
import { errorBody, handleError } from './http-errors.js';
import { registerActRoutes } from './routes/act.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerHealthRoutes } from './routes/health.js';
import { metricsOf, registerMetricsRoutes } from './routes/metrics.js';
import { registerReadRoutes } from './routes/read.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { registerDashboardRoutes } from './dashboard/routes.js';

export interface ServerOptions {
  auth: AuthOptions;
  /** Largest request body accepted, in bytes (default 1 MiB); larger ones are answered 413. */
  bodyLimit?: number;
  /** Fastify's logger: a pino instance's options, or false (the default) for none. */
  logger?: boolean | Record<string, unknown>;
  /** TLS: PEM certificate and key. */
  https?: { cert: Buffer; key: Buffer };
}

/** Builds the server (not yet listening). */
export async function buildServer(ctx: ServerContext, o: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    // Behind no proxy unless told: the client's address is the socket's.
    trustProxy: false,
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
  app.addHook('onRequest', (request, reply, done) => {
    void authorize(auth, request).then(
      (refusal) => {
        if (refusal) {
          if (refusal.retryAfterS) void reply.header('retry-after', String(refusal.retryAfterS));
          void reply.status(refusal.status).send(errorBody(refusal.code, refusal.message));
        }
        done();
      },
      (e: Error) => done(e),
    );
  });
  app.addHook('onResponse', async (request, reply) => {
    await audit(ctx, request, reply.statusCode);
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
  // Each in a scope of its own: the webhooks read raw bodies, the dashboard serves files.
  await app.register(async (scope) => registerWebhookRoutes(scope, ctx));
  await app.register(async (scope) => registerDashboardRoutes(scope, ctx));
  app.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, () => app.swagger());
  return app;
}

type Refusal = { status: number; code: string; message: string; retryAfterS?: number };

/** Authenticates a request to a route that needs a permission, and checks it; the refusal, if any. */
async function authorize(auth: Authenticator, request: FastifyRequest): Promise<Refusal | undefined> {
  const permission = request.routeOptions.config?.permission;
  if (permission === undefined) return undefined; // no route: answered 404 without asking who
  if (permission === 'public' || permission === 'webhook') return undefined;
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
  if (status === 401 || status === 429) return 'unauthenticated';
  if (status === 403) return 'denied';
  if (status === 409) return 'conflict';
  if (status < 500) return 'invalid';
  return 'failed';
}

/** An audit row for every action, and for every request refused for who sent it. */
async function audit(ctx: ServerContext, request: FastifyRequest, status: number): Promise<void> {
  const action = request.routeOptions.config?.audit;
  const refused = status === 401 || status === 403 || status === 429;
  if (!action && !refused) return;
  const p = request.principal;
  await ctx.access.appendAudit({
    at: new Date().toISOString(),
    actor:
      p?.actor ?? (request.routeOptions.config?.permission === 'webhook' ? `webhook:${request.auditTarget ?? 'unknown'}` : 'anonymous'),
    role: p && p.role !== 'local' ? p.role : null,
    action: action ?? `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    target: request.auditTarget ?? '',
    source: request.ip,
    result: resultOf(status),
    status,
    detail: request.auditDetail ?? {},
  });
}
