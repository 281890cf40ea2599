/**
 * The server's role matrix (issue 17): what each role may do, in one table, so that every route
 * names the one permission it needs and the tests go through the table route by route.
 *   viewer   reads deployments, rollbacks, metrics, stacks, runs (personal data redacted)
 *   deployer also deploys and rolls back
 *   admin    also force-unlocks and manages tokens
 *   auditor  reads everything, the audit log and unredacted exports included; changes nothing
 */
import type { Role } from '../ledger/access.js';

/** One thing a route does. */
export type Permission = 'read' | 'deploy' | 'rollback' | 'unlock' | 'tokens' | 'audit' | 'unredacted';

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(['read']),
  deployer: new Set(['read', 'deploy', 'rollback']),
  admin: new Set(['read', 'deploy', 'rollback', 'unlock', 'tokens']),
  auditor: new Set(['read', 'audit', 'unredacted']),
};

/** Whether `role` may do `permission`. */
export function allows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}
