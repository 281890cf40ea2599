/**
 * Authentication: API tokens by hash (revoked and expired ones refused), JWTs (HS256 secret or
 * a JWKS file; issuer, audience, expiry and the role claim checked), the failed-attempt limit
 * per client address, and the role matrix.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { MemoryLedger } from '../ledger/memory.js';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { Authenticator, FailureLimiter, permits } from './auth.js';
import { ROLE_PERMISSIONS } from './roles.js';
import { createApiToken, secretHash } from './tokens.js';

const tempDir = useTempDirs('auth');
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';

async function hs256(
  claims: Record<string, unknown>,
  o: { exp?: string | number; iss?: string; aud?: string; secret?: string } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt();
  if (o.exp !== undefined) jwt = jwt.setExpirationTime(o.exp);
  if (o.iss) jwt = jwt.setIssuer(o.iss);
  if (o.aud) jwt = jwt.setAudience(o.aud);
  return jwt.sign(new TextEncoder().encode(o.secret ?? SECRET));
}

describe('API tokens', () => {
  it('are kept as the sha256 of their secret and identify their role', async () => {
    const ledger = new MemoryLedger();
    const { token, secret } = await createApiToken(ledger.access(), { name: 'ci', role: 'deployer', createdBy: 'me', expiresAt: null });
    expect(secret).toMatch(/^dpl_[A-Za-z0-9_-]{43}$/);
    expect(await ledger.access().tokenByHash(secretHash(secret))).toEqual(token);
    const auth = new Authenticator({ insecureLocal: false }, ledger.access());
    expect(await auth.authenticate(`Bearer ${secret}`, '10.0.0.1')).toEqual({ ok: true, principal: { actor: token.id, role: 'deployer' } });
    expect(JSON.stringify(await ledger.access().listTokens())).not.toContain(secret);
  });

  it('refuses a missing, unknown, revoked or expired token with 401', async () => {
    const ledger = new MemoryLedger();
    const access = ledger.access();
    const revoked = await createApiToken(access, { name: 'old', role: 'admin', createdBy: 'me', expiresAt: null });
    await access.revokeToken(revoked.token.id, new Date().toISOString());
    const expired = await createApiToken(access, { name: 'x', role: 'admin', createdBy: 'me', expiresAt: '2020-01-01T00:00:00.000Z' });
    const auth = new Authenticator({ insecureLocal: false }, access);
    const refused = async (header: string | undefined): Promise<string> => {
      const r = await auth.authenticate(header, `ip-${header}`);
      if (r.ok) throw new Error('accepted');
      expect(r.status).toBe(401);
      return r.message;
    };
    expect(await refused(undefined)).toMatch(/authentication required/);
    expect(await refused('Basic abc')).toMatch(/authentication required/);
    expect(await refused('Bearer dpl_nope')).toBe('unknown token');
    expect(await refused(`Bearer ${revoked.secret}`)).toBe(`token ${revoked.token.id} was revoked`);
    expect(await refused(`Bearer ${expired.secret}`)).toBe(`token ${expired.token.id} expired`);
    expect(await refused('Bearer eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe('unknown token');
  });

  it('lets anyone do anything with --insecure-local', async () => {
    const auth = new Authenticator({ insecureLocal: true }, new MemoryLedger().access());
    const r = await auth.authenticate(undefined, '127.0.0.1');
    expect(r).toEqual({ ok: true, principal: { actor: 'local', role: 'local' } });
    if (r.ok) expect(permits(r.principal, 'audit') && permits(r.principal, 'unlock')).toBe(true);
  });
});

describe('JWTs', () => {
  const access = new MemoryLedger().access();

  it('accepts an HS256 token with the right issuer, audience and role, and names its subject', async () => {
    const auth = new Authenticator({ insecureLocal: false, jwt: { secret: SECRET, issuer: 'idp', audience: 'deployer' } }, access);
    const jwt = await hs256({ role: 'viewer' }, { exp: '5m', iss: 'idp', aud: 'deployer' });
    expect(await auth.authenticate(`Bearer ${jwt}`, 'a')).toEqual({ ok: true, principal: { actor: 'jwt:alice', role: 'viewer' } });
  });

  it('refuses a wrong secret, issuer or audience, an expired token, one without expiry, and one naming no role', async () => {
    const auth = new Authenticator(
      { insecureLocal: false, jwt: { secret: SECRET, issuer: 'idp', audience: 'deployer', roleClaim: 'roles' } },
      access,
    );
    const cases: [Promise<string>, RegExp][] = [
      [
        hs256({ roles: ['admin'] }, { exp: '5m', iss: 'idp', aud: 'deployer', secret: 'another-secret-of-at-least-32-bytes!!' }),
        /signature/,
      ],
      [hs256({ roles: ['admin'] }, { exp: '5m', iss: 'other', aud: 'deployer' }), /iss/],
      [hs256({ roles: ['admin'] }, { exp: '5m', iss: 'idp', aud: 'else' }), /aud/],
      [hs256({ roles: ['admin'] }, { exp: Math.floor(Date.now() / 1000) - 60, iss: 'idp', aud: 'deployer' }), /exp/],
      [hs256({ roles: ['admin'] }, { iss: 'idp', aud: 'deployer' }), /exp/],
      [hs256({ roles: ['root'] }, { exp: '5m', iss: 'idp', aud: 'deployer' }), /roles claim names no role/],
      [
        new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('idp')
          .setAudience('deployer')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(SECRET)),
        /sub/,
      ],
    ];
    for (const [jwt, message] of cases) {
      const r = await auth.authenticate(`Bearer ${await jwt}`, 'b');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(message);
    }
    const listed = await auth.authenticate(
      `Bearer ${await hs256({ roles: ['nobody', 'auditor'] }, { exp: '5m', iss: 'idp', aud: 'deployer' })}`,
      'c',
    );
    expect(listed).toEqual({ ok: true, principal: { actor: 'jwt:alice', role: 'auditor' } });
  });

  it("checks tokens signed by a key of a JWKS file (the identity provider's public keys)", async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const file = path.join(tempDir(), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }));
    const auth = new Authenticator({ insecureLocal: false, jwt: { jwksFile: file, issuer: 'idp', audience: 'deployer' } }, access);
    const sign = (claims: Record<string, unknown>, aud = 'deployer') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer('idp')
        .setAudience(aud)
        .setSubject('bob')
        .setExpirationTime('5m')
        .sign(privateKey);
    expect(await auth.authenticate(`Bearer ${await sign({ role: 'admin' })}`, 'd')).toEqual({
      ok: true,
      principal: { actor: 'jwt:bob', role: 'admin' },
    });
    // A token the provider issued for another application, and an HMAC token, are refused.
    expect((await auth.authenticate(`Bearer ${await sign({ role: 'admin' }, 'wiki')}`, 'd')).ok).toBe(false);
    const forged = await hs256({ role: 'admin' }, { exp: '5m', iss: 'idp', aud: 'deployer' });
    expect((await auth.authenticate(`Bearer ${forged}`, 'd')).ok).toBe(false);
    expect(() => new Authenticator({ insecureLocal: false, jwt: { jwksFile: file } }, access)).toThrow(/give the issuer and the audience/);
  });

  it('refuses unusable settings at start: a short secret, both a secret and a JWKS file, an unreadable JWKS file', () => {
    expect(() => new Authenticator({ insecureLocal: false, jwt: { secret: 'short' } }, access)).toThrow(/at least 32 bytes/);
    expect(() => new Authenticator({ insecureLocal: false, jwt: { secret: SECRET, jwksFile: 'x' } }, access)).toThrow(/not both/);
    expect(
      () =>
        new Authenticator(
          { insecureLocal: false, jwt: { jwksFile: path.join(tempDir(), 'none.json'), issuer: 'i', audience: 'a' } },
          access,
        ),
    ).toThrow(/cannot read the JWKS file/);
  });
});

describe('failed authentication', () => {
  it('is limited per client address: past the limit the address is refused with 429 until its window ends', async () => {
    const ledger = new MemoryLedger();
    const { secret } = await createApiToken(ledger.access(), { name: 'ok', role: 'viewer', createdBy: 'me', expiresAt: null });
    const auth = new Authenticator({ insecureLocal: false, failureLimit: { attempts: 3, windowMs: 60_000 } }, ledger.access());
    for (let i = 0; i < 3; i++)
      expect(await auth.authenticate('Bearer dpl_guess' + i, '1.2.3.4')).toMatchObject({ ok: false, status: 401 });
    const blocked = await auth.authenticate(`Bearer ${secret}`, '1.2.3.4');
    expect(blocked).toMatchObject({ ok: false, status: 429 });
    if (!blocked.ok) expect(blocked.retryAfterS).toBeGreaterThan(0);
    expect(await auth.authenticate(`Bearer ${secret}`, '5.6.7.8')).toMatchObject({ ok: true });
  });

  it('forgets an address once its window has passed', () => {
    let now = 0;
    const limiter = new FailureLimiter(2, 1000, () => now);
    limiter.fail('a');
    limiter.fail('a');
    expect(limiter.blockedFor('a')).toBe(1000);
    now = 999;
    expect(limiter.blockedFor('a')).toBe(1);
    now = 1000;
    expect(limiter.blockedFor('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.blockedFor('a')).toBe(0);
  });
});

describe('the role matrix', () => {
  it('viewer reads; deployer also deploys and rolls back; admin also unlocks and manages tokens; auditor reads all, unredacted', () => {
    const table = Object.fromEntries(Object.entries(ROLE_PERMISSIONS).map(([role, p]) => [role, [...p].sort()]));
    expect(table).toEqual({
      viewer: ['read'],
      deployer: ['deploy', 'read', 'rollback'],
      admin: ['deploy', 'read', 'rollback', 'tokens', 'unlock'],
      auditor: ['audit', 'read', 'unredacted'],
    });
  });
});
