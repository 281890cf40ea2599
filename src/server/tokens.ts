/**
 * API tokens: `dpl_` and 32 random bytes (base64url), shown once when created and kept only as
 * their sha256, so a copy of the database gives no usable token. A hash of a random 256-bit
 * secret needs no salt or slow hash: there is no dictionary to guess it from.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AccessStore, ApiToken, Role } from '../ledger/access.js';

const PREFIX = 'dpl_';

/** The sha256 (hex) a token's secret is kept as. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether a bearer credential looks like one of our tokens (otherwise it is taken for a JWT). */
export function isApiToken(credential: string): boolean {
  return credential.startsWith(PREFIX);
}

/** What creating a token gives: the token as listed, and its secret, shown this once. */
export interface CreatedToken {
  token: ApiToken;
  secret: string;
}

/** Creates and keeps a token of `role`, named `name`, by `createdBy`, valid until `expiresAt` (null: no expiry). */
export async function createApiToken(
  access: AccessStore,
  o: { name: string; role: Role; createdBy: string; expiresAt: string | null; now?: Date },
): Promise<CreatedToken> {
  const secret = PREFIX + randomBytes(32).toString('base64url');
  const token: ApiToken = {
    id: 'tok_' + randomBytes(6).toString('hex'),
    name: o.name,
    role: o.role,
    createdAt: (o.now ?? new Date()).toISOString(),
    createdBy: o.createdBy,
    expiresAt: o.expiresAt,
    revokedAt: null,
  };
  await access.createToken(token, secretHash(secret));
  return { token, secret };
}

/** Why a token is not valid now, or undefined when it is. */
export function tokenRefusal(token: ApiToken, now: Date): string | undefined {
  if (token.revokedAt) return `token ${token.id} was revoked`;
  if (token.expiresAt && Date.parse(token.expiresAt) <= now.getTime()) return `token ${token.id} expired`;
  return undefined;
}
