/**
 * What the server's routes work with (ServerContext) and what each route declares of itself
 * (RouteConfig: the permission it needs and the action it audits). Routes call the same
 * functions as the CLI (workflows, ledger queries, lock managers): nothing is implemented twice.
 */
import type { AccessStore } from '../ledger/access.js';
import type { LedgerStore } from '../ledger/index.js';
import type { Principal } from './auth.js';
import type { Permission } from './roles.js';
import type { RunManager } from './runs.js';
import type { StackCatalog } from './stacks.js';

/** Shared secrets of webhook senders. */
export interface WebhookSecrets {
  /** GitHub's webhook secret (`X-Hub-Signature-256`). */
  github?: string;
  /** Generic JSON receivers, by name (`POST /webhooks/<name>`), each with its secret. */
  generic?: Record<string, string>;
}

/** What every route works with: the ledger and its access store, the served stacks, the runs, the webhook secrets, and whether the server takes requests. */
export interface ServerContext {
  ledger: LedgerStore;
  access: AccessStore;
  catalog: StackCatalog;
  runs: RunManager;
  webhooks: WebhookSecrets;
  /** Whether the server may take requests (false while starting and once closing). */
  ready: () => boolean;
}

/** What a route declares in its `config`. */
export interface RouteConfig {
  /** The permission it needs; `public`: none (health, metrics, the dashboard's files); `webhook`: a signature instead. */
  permission: Permission | 'public' | 'webhook';
  /** The action it records in the audit log (reads record none unless refused). */
  audit?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request (set for routes that need a permission). */
    principal?: Principal;
    /** What the request acted on, for its audit row (set by the handler). */
    auditTarget?: string;
    /** More to keep in its audit row (set by the handler): a run id, an error code. */
    auditDetail?: Record<string, unknown>;
  }
  interface FastifyContextConfig {
    permission?: RouteConfig['permission'];
    audit?: string;
  }
}
