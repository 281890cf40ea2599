/**
 * server/: `deployer serve`. startServer opens the ledger, reads the served stacks, checks that
 * the server will not run unprotected, builds the fastify app (app.ts) and listens; the CLI and
 * the tests start it the same way.
 */
import type { FastifyInstance } from 'fastify';
import { InvalidInputError } from '../errors.js';
import { openLedger, type LedgerStore } from '../ledger/index.js';
import { buildServer, type ServerOptions } from './app.js';
import type { WebhookSecrets } from './context.js';
import { RunManager, type RunRequest, type RunView } from './runs.js';
import type { AccessStore } from '../ledger/access.js';
import { StackCatalog } from './stacks.js';
import { tokenRefusal } from './tokens.js';
import { deployerVersion } from '../package-info.js';
import { startTracing, type Tracing } from '../util/tracing.js';
import { traceRun } from '../workflows/tracing.js';

export { buildServer, type ServerOptions } from './app.js';
export { RunManager } from './runs.js';
export { StackCatalog } from './stacks.js';

/** What `deployer serve` starts a server with: the stacks, the ledger, where to listen, the webhook secrets. */
export interface StartOptions extends ServerOptions {
  /** The stack directories served. */
  dirs: string[];
  /** The ledger: an SQLite file or a postgres:// URL. */
  ledger: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  webhooks: WebhookSecrets;
  env?: NodeJS.ProcessEnv;
}

/** A listening server, and how to stop it. */
export interface RunningServer {
  /** `http(s)://host:port` */
  url: string;
  app: FastifyInstance;
  ledger: LedgerStore;
  runs: RunManager;
  /** Stops taking requests, lets running runs stop (cancelling them after `graceMs`), closes the ledger. */
  close(graceMs?: number): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  if (o.auth.insecureLocal && !isLoopback(o.host)) {
    throw new InvalidInputError(`--insecure-local serves without authentication, so only on loopback: not on ${o.host}`);
  }
  const catalog = await StackCatalog.load(o.dirs, o.env);
  const ledger = openLedger(o.ledger);
  let ready = false;
  let tracing: Tracing | undefined;
  try {
    if (!o.auth.insecureLocal && !o.auth.jwt && !(await hasValidToken(ledger))) {
      throw new InvalidInputError('deployer serve will not start without authentication', [
        'Create a token first: deployer token create --role admin --name <who> (with the same --ledger),',
        'or give JWT settings (--jwt-secret-env / --jwks-file), or serve on loopback without authentication with --insecure-local.',
      ]);
    }
    tracing = await startTracing('deployer-server', { ...(o.env ? { env: o.env } : {}), serviceVersion: deployerVersion });
    const tracer = tracing;
    const access = ledger.access();
    const runs = new RunManager(
      undefined,
      tracer ? (request, listener) => traceRun(tracer, request.kind === 'deploy' ? 'apply' : 'rollback', listener) : undefined,
      (run, request) => auditRunEnd(access, run, request),
    );
    const app = await buildServer({ ledger, access, catalog, runs, webhooks: o.webhooks, ready: () => ready }, o);
    await app.listen({ host: o.host, port: o.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : o.port;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    ready = true;
    return {
      url: `${o.https ? 'https' : 'http'}://${host}:${port}`,
      app,
      ledger,
      runs,
      close: async (graceMs?: number) => {
        ready = false;
        await runs.close(graceMs);
        await app.close();
        await ledger.close();
        await tracing?.shutdown();
      },
    };
  } catch (e) {
    await ledger.close();
    await tracing?.shutdown();
    throw e;
  }
}

async function hasValidToken(ledger: LedgerStore): Promise<boolean> {
  const now = new Date();
  return (await ledger.access().listTokens()).some((t) => tokenRefusal(t, now) === undefined);
}

/** The audit row of how a run the server started ended (the request's row says it was asked for). */
async function auditRunEnd(access: AccessStore, run: RunView, request: RunRequest): Promise<void> {
  await access.appendAudit({
    at: run.endedAt ?? new Date().toISOString(),
    actor: request.actor?.actor ?? 'anonymous',
    role: request.actor?.role ?? null,
    action: `${run.kind}-ended`,
    target: `${run.stack}/${run.environment}`,
    source: request.actor?.source ?? '',
    result: run.status,
    status: 0,
    detail: { run: run.id, ...(run.error ? { code: run.error.code } : {}) },
  });
}
