/**
 * The signature webhook senders put on a delivery: GitHub's `X-Hub-Signature-256:
 * sha256=<hex>`, the HMAC-SHA256 of the request's raw body with the hook's shared secret. The
 * generic receivers use the same scheme, so a sender needs one recipe (openssl can sign). The
 * HMAC is over the exact bytes received: a body parsed and serialized again would not match.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header the signature travels in (lower case, as Node gives header names). */
export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=<hex>` of `body` with `secret`: what a sender puts in X-Hub-Signature-256. */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Only a well-formed header is compared: `sha256=` and 64 hexadecimal digits (32 bytes). */
const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * Whether `header` is the signature of `body` with `secret`. The digests are compared in
 * constant time (timingSafeEqual over two 32-byte buffers), so that the time of a refusal tells
 * nothing of how much of a forged signature was right; a header of another shape or length is
 * refused before any comparison (timingSafeEqual throws on buffers of unequal length).
 */
export function verifySignature(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const m = SIGNATURE.exec(header.trim());
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
