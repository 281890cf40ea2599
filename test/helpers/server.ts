/**
 * A `deployer serve` app for tests, driven with fastify's `inject`: a memory ledger (its
 * access store holding one token per role), the quick start's stack copied into a temporary
 * directory, and a RunManager whose workflow the test may replace (a scripted run) or keep
 * (the real apply, for end-to-end tests). `close()` removes everything it made.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ROLES, type Role } from '../../src/ledger/access.js';
import type { LedgerStore } from '../../src/ledger/index.js';
import { MemoryLedger } from '../../src/ledger/memory.js';
import { buildServer } from '../../src/server/app.js';
import type { AuthOptions } from '../../src/server/auth.js';
import type { WebhookSecrets } from '../../src/server/context.js';
import type { ComponentReport } from '../../src/executor/events.js';
import { RunManager, type RunWorkflow } from '../../src/server/runs.js';
import { StackCatalog } from '../../src/server/stacks.js';
import { createApiToken } from '../../src/server/tokens.js';

export const QUICKSTART = path.resolve(import.meta.dirname, '../../examples/quickstart');

export interface TestServer {
  app: FastifyInstance;
  ledger: LedgerStore;
  runs: RunManager;
  /** The served copy of the quick start. */
  dir: string;
  /** A valid token's secret per role. */
  tokens: Record<Role, string>;
  /** `{authorization: 'Bearer ...'}` for a role. */
  as(role: Role): { authorization: string };
  close(): Promise<void>;
}

export interface TestServerOptions {
  ledger?: LedgerStore;
  workflow?: RunWorkflow;
  auth?: Partial<AuthOptions>;
  webhooks?: WebhookSecrets;
  bodyLimit?: number;
  /** Reverse proxies whose X-Forwarded-For is believed. */
  trustProxy?: string[];
  /** Stack directories to serve instead of a copy of the quick start. */
  dirs?: string[];
}

export async function testServer(o: TestServerOptions = {}): Promise<TestServer> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'deployer-serve-'));
  const dir = path.join(root, 'quickstart');
  cpSync(QUICKSTART, dir, { recursive: true, filter: (f) => !f.includes(`${path.sep}.deployer`) });
  const ledger = o.ledger ?? new MemoryLedger();
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) {
    tokens[role] = (await createApiToken(ledger.access(), { name: `test ${role}`, role, createdBy: 'test', expiresAt: null })).secret;
  }
  const runs = new RunManager(o.workflow);
  const catalog = await StackCatalog.load(o.dirs ?? [dir], { ...process.env, DEPLOY_LEDGER_DB: path.join(root, 'ledger.db') });
  const app = await buildServer(
    { ledger, access: ledger.access(), catalog, runs, webhooks: o.webhooks ?? {}, ready: () => true },
    {
      auth: { insecureLocal: false, failureLimit: { attempts: 100_000, windowMs: 60_000 }, ...o.auth },
      ...(o.bodyLimit ? { bodyLimit: o.bodyLimit } : {}),
      ...(o.trustProxy ? { trustProxy: o.trustProxy } : {}),
    },
  );
  await app.ready();
  return {
    app,
    ledger,
    runs,
    dir,
    tokens,
    as: (role) => ({ authorization: `Bearer ${tokens[role]}` }),
    close: async () => {
      await runs.close(0);
      await app.close();
      await ledger.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A run that holds its lock (taken by `lockedBy`), plans, and succeeds at once, touching
 * nothing: for tests of the routes around runs rather than of the runs themselves.
 */
export function instantRun(lockedBy = 'alice@laptop'): RunWorkflow {
  return async (request, ctx) => {
    const now = new Date();
    ctx.listener({ type: 'lock-acquired', locks: [{ lockKey: 'k', lockId: 'l', lockedBy, lockedAt: now, expiresAt: now, metadata: {} }] });
    const plan = { stack: request.stack, environment: request.environment, actions: [], waves: [] } as never;
    ctx.listener({ type: 'plan', plan });
    const summary = {
      runId: 'r1',
      operation: request.kind === 'deploy' ? ('apply' as const) : ('rollback' as const),
      stack: request.stack,
      environment: request.environment,
      ok: true,
      counts: { created: 0, updated: 0, replaced: 0, deleted: 0, unchanged: 0, failed: 0, skipped: 0, cancelled: 0 },
      engineOperations: 0,
      durationMs: 1,
      components: [] as ComponentReport[],
      serial: 1,
    };
    ctx.listener({ type: 'summary', summary });
    return { status: 'done', plan, summary };
  };
}
