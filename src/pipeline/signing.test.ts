/** Ed25519 signatures of artifact digests: made with a key, verified only by a trusted one and only for that digest. */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { fingerprintOf, privateKeyFrom, publicKeyFile, signDigest, verifiedBy, writeNewKeyPair } from './signing.js';

const tmp = useTempDirs('signing');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('signing', () => {
  it('a signature verifies with its public key, not with another key, and not for another digest', async () => {
    const dir = tmp();
    const made = await writeNewKeyPair(path.join(dir, 'release.pem'));
    expect(statSync(made.privateFile).mode & 0o777).toBe(0o600);
    const key = privateKeyFrom(readFileSync(made.privateFile, 'utf8'), made.privateFile);
    const trusted = await publicKeyFile(made.publicFile);
    expect(fingerprintOf(trusted)).toBe(made.fingerprint);
    const sig = signDigest(DIGEST, key, 'ci@runner');
    expect(sig).toMatchObject({ digest: DIGEST, algorithm: 'ed25519', keyFingerprint: made.fingerprint, signedBy: 'ci@runner' });
    expect(JSON.stringify(sig)).not.toContain('PRIVATE');
    expect(verifiedBy(sig, DIGEST, [trusted])).toBeDefined();

    const other = generateKeyPairSync('ed25519').publicKey;
    expect(verifiedBy(sig, DIGEST, [other])).toBeUndefined();
    expect(verifiedBy(sig, `sha256:${'cd'.repeat(32)}`, [trusted])).toBeUndefined();
    // A signature whose bytes were changed does not verify, even naming the right key.
    const flipped = Buffer.from(sig.signature, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(verifiedBy({ ...sig, signature: flipped.toString('base64') }, DIGEST, [trusted])).toBeUndefined();
  });

  it('refuses keys that are not Ed25519 PEM, and never writes over a key', async () => {
    const dir = tmp();
    expect(() => privateKeyFrom('not a key', 'key.pem')).toThrow(/key.pem is not a PEM private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => privateKeyFrom(rsa, 'rsa.pem')).toThrow(/rsa key: signing needs an Ed25519 key/);
    await expect(publicKeyFile(path.join(dir, 'missing.pub'))).rejects.toThrow(/cannot read the trusted key .*ENOENT/);
    const made = await writeNewKeyPair(path.join(dir, 'k.pem'));
    await expect(writeNewKeyPair(made.privateFile)).rejects.toThrow(/already exists/);
  });
});
