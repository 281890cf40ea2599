/**
 * Who a request comes from: an API token (`Authorization: Bearer dpl_...`, looked up by its
 * hash) or a JWT bearer token (HS256 with a shared secret, or any algorithm of a JWKS file;
 * issuer, audience and expiry checked; the role in a claim). With `--insecure-local` nobody is
 * asked (the server then only listens on loopback). Failed attempts are counted per client
 * address, and past a limit the client is refused for a while, so a token cannot be guessed by
 * trying.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { InvalidInputError } from '../errors.js';
import { ROLES, type AccessStore, type Role } from '../ledger/access.js';
import { allows, type Permission } from './roles.js';
import { isApiToken, secretHash, tokenRefusal } from './tokens.js';

/** How JWTs are checked. */
export interface JwtOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** A JSON Web Key Set file (the identity provider's public keys). */
  jwksFile?: string;
  issuer?: string;
  audience?: string;
  /** The claim that holds the role (default `role`); a list of roles gives the first one known. */
  roleClaim?: string;
}

/** How requests authenticate: not at all (`--insecure-local`), by API token (always), by JWT (when given), and how many failures an address may make. */
export interface AuthOptions {
  /** No authentication at all: for a server on the user's own machine only. */
  insecureLocal: boolean;
  jwt?: JwtOptions;
  /** Failed attempts allowed per client address per window before it is refused (default 10 per minute). */
  failureLimit?: { attempts: number; windowMs: number };
}

/** Who is acting, and with which role. */
export interface Principal {
  /** `tok_...`, `jwt:<subject>`, or `local` (--insecure-local). */
  actor: string;
  /** The role (`local` may do everything). */
  role: Role | 'local';
}

/** Who sent a request, or why not: 401 (no or a bad credential) or 429 (too many failures from its address, with when to try again). */
export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: 401 | 429; message: string; retryAfterS?: number };

/** The role the audit log records for `principal`: none for nobody, nor for `--insecure-local`'s everyone. */
export function auditedRole(principal: Principal | undefined): Role | null {
  return principal && principal.role !== 'local' ? principal.role : null;
}

/** Whether `principal` may do `permission`. */
export function permits(principal: Principal, permission: Permission): boolean {
  return principal.role === 'local' || allows(principal.role, permission);
}

/** Counts failed authentications per client address in fixed windows. */
export class FailureLimiter {
  private readonly seen = new Map<string, { count: number; since: number }>();
  constructor(
    private readonly attempts: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `source` may try again, or 0. */
  blockedFor(source: string): number {
    const s = this.seen.get(source);
    if (!s) return 0;
    const left = s.since + this.windowMs - this.now();
    if (left <= 0) {
      this.seen.delete(source);
      return 0;
    }
    return s.count >= this.attempts ? left : 0;
  }

  fail(source: string): void {
    const s = this.seen.get(source);
    if (!s || s.since + this.windowMs <= this.now()) this.seen.set(source, { count: 1, since: this.now() });
    else s.count += 1;
  }
}

/** Checks bearer credentials against the token store and the JWT settings. */
export class Authenticator {
  private readonly limiter: FailureLimiter;
  private readonly jwtKey: Uint8Array | JWTVerifyGetKey | undefined;

  constructor(
    private readonly options: AuthOptions,
    private readonly access: AccessStore,
  ) {
    const limit = options.failureLimit ?? { attempts: 10, windowMs: 60_000 };
    this.limiter = new FailureLimiter(limit.attempts, limit.windowMs);
    this.jwtKey = jwtKeyOf(options.jwt);
  }

  /** Who sent a request with this Authorization header from `source`. */
  async authenticate(header: string | undefined, source: string): Promise<AuthResult> {
    if (this.options.insecureLocal) return { ok: true, principal: { actor: 'local', role: 'local' } };
    const blocked = this.limiter.blockedFor(source);
    if (blocked > 0) {
      return {
        ok: false,
        status: 429,
        message: 'too many failed authentication attempts; try again later',
        retryAfterS: Math.ceil(blocked / 1000),
      };
    }
    const found = await this.identify(header);
    if (typeof found === 'string') {
      this.limiter.fail(source);
      return { ok: false, status: 401, message: found };
    }
    return { ok: true, principal: found };
  }

  private async identify(header: string | undefined): Promise<Principal | string> {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) return 'authentication required: send Authorization: Bearer <token>';
    const credential = m[1]!;
    if (isApiToken(credential)) {
      const token = await this.access.tokenByHash(secretHash(credential));
      if (!token) return 'unknown token';
      const refused = tokenRefusal(token, new Date());
      return refused ?? { actor: token.id, role: token.role };
    }
    if (!this.jwtKey) return 'unknown token';
    return this.verifyJwt(credential);
  }

  private async verifyJwt(jwt: string): Promise<Principal | string> {
    const o = this.options.jwt!;
    try {
      const { payload } = await jwtVerify(jwt, this.jwtKey as JWTVerifyGetKey, {
        ...(o.issuer ? { issuer: o.issuer } : {}),
        ...(o.audience ? { audience: o.audience } : {}),
        // Pinned either way: a JWKS's public key must never verify an HMAC (algorithm confusion).
        algorithms: o.secret ? ['HS256'] : JWKS_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      });
      const claim = payload[o.roleClaim ?? 'role'];
      const role = (Array.isArray(claim) ? claim : [claim]).find((r): r is Role => ROLES.includes(r as Role));
      if (!role) return `the token's ${o.roleClaim ?? 'role'} claim names no role (${ROLES.join(', ')})`;
      return { actor: `jwt:${payload.sub!}`, role };
    } catch (e) {
      return `invalid token: ${(e as Error).message}`;
    }
  }
}

/** The asymmetric algorithms a JWKS's keys may sign with. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function jwtKeyOf(o: JwtOptions | undefined): Uint8Array | JWTVerifyGetKey | undefined {
  if (!o) return undefined;
  if (o.secret && o.jwksFile) throw new InvalidInputError('give either a JWT secret or a JWKS file, not both');
  if (o.secret) {
    if (Buffer.byteLength(o.secret) < 32) throw new InvalidInputError('the JWT secret must be at least 32 bytes long (HS256)');
    return new TextEncoder().encode(o.secret);
  }
  if (o.jwksFile) {
    // An identity provider's keys sign tokens for every application it serves: only those for deployer count.
    if (!o.issuer || !o.audience)
      throw new InvalidInputError('with a JWKS file, give the issuer and the audience to accept (--jwt-issuer, --jwt-audience)');
    let jwks: unknown;
    try {
      jwks = JSON.parse(readFileSync(o.jwksFile, 'utf8'));
    } catch (e) {
      throw new InvalidInputError(`cannot read the JWKS file ${o.jwksFile}: ${(e as Error).message}`);
    }
    return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  }
  return undefined;
}
