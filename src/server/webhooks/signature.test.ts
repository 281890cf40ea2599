/**
 * The HMAC scheme of X-Hub-Signature-256: GitHub's published example vector, generated vectors
 * checked against an independent HMAC, and the refusals (altered body, other secret, a header of
 * the wrong shape or length, none).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../../test/helpers/seeded.mjs';
import { signBody, verifySignature } from './signature.js';

// docs.github.com, "Validating webhook deliveries": testing the webhook payload validation.
const GITHUB_VECTOR = {
  secret: "It's a Secret to Everybody",
  payload: 'Hello, World!',
  signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
};

describe('X-Hub-Signature-256', () => {
  it("computes GitHub's published example exactly, and accepts it", () => {
    expect(signBody(GITHUB_VECTOR.secret, GITHUB_VECTOR.payload)).toBe(GITHUB_VECTOR.signature);
    expect(verifySignature(GITHUB_VECTOR.secret, Buffer.from(GITHUB_VECTOR.payload), GITHUB_VECTOR.signature)).toBe(true);
    // Hex digits in upper case are the same digest.
    expect(
      verifySignature(
        GITHUB_VECTOR.secret,
        Buffer.from(GITHUB_VECTOR.payload),
        GITHUB_VECTOR.signature.toUpperCase().replace('SHA256', 'sha256'),
      ),
    ).toBe(true);
  });

  it('agrees with an independent HMAC on generated secrets and bodies, and refuses each altered one', () => {
    const random = seeded(17);
    for (let i = 0; i < 200; i++) {
      const secret = randomBytes(1 + Math.floor(random() * 64)).toString('base64');
      const body = randomBytes(Math.floor(random() * 2048));
      const expected = `sha256=${createHmac('sha256', Buffer.from(secret)).update(body).digest('hex')}`;
      expect(signBody(secret, body)).toBe(expected);
      expect(verifySignature(secret, body, expected)).toBe(true);
      if (body.length > 0) {
        const altered = Buffer.from(body);
        altered[Math.floor(random() * altered.length)]! ^= 1 << Math.floor(random() * 8);
        expect(verifySignature(secret, altered, expected)).toBe(false);
      }
      expect(verifySignature(`${secret}x`, body, expected)).toBe(false);
    }
  });

  it.each([
    ['none', undefined],
    ['a repeated header', [GITHUB_VECTOR.signature, GITHUB_VECTOR.signature]],
    ['an empty one', ''],
    ['31 bytes', `sha256=${'00'.repeat(31)}`],
    ['33 bytes', `sha256=${'00'.repeat(33)}`],
    ['an odd number of digits', `${GITHUB_VECTOR.signature}0`],
    ['not hex', `sha256=${'g'.repeat(64)}`],
    ['the sha1 scheme', `sha1=${'00'.repeat(20)}`],
    ['no scheme', GITHUB_VECTOR.signature.slice(7)],
  ])('refuses %s', (_what, header) => {
    expect(verifySignature(GITHUB_VECTOR.secret, Buffer.from(GITHUB_VECTOR.payload), header)).toBe(false);
  });
});
