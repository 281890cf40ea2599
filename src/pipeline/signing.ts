/**
 * Ed25519 signatures of artifact digests (node:crypto, no other dependency). What is signed is
 * the digest string (`sha256:...`), so a signature holds for the artifact wherever its bytes
 * are; a signature names the key it was made with by the sha256 of its public key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '../errors.js';
import { sha256 } from '../model/hash.js';
import type { ArtifactSignature } from './cache.js';

/** The sha256 of a public key's SPKI DER bytes: how a signature names its key. */
export function fingerprintOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return sha256(pub.export({ type: 'spki', format: 'der' }));
}

/** A private Ed25519 key from PEM text; `where` names it in errors (never the key itself). */
export function privateKeyFrom(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new InvalidInputError(`${where} is not a PEM private key`, [
      'Make one with `deployer sign --new-key <file>` or `openssl genpkey -algorithm ed25519`.',
    ]);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new InvalidInputError(`${where} is a ${key.asymmetricKeyType ?? 'unknown'} key: signing needs an Ed25519 key`);
  return key;
}

/** A trusted public key from a PEM file (a private key file also gives its public half). */
export async function publicKeyFile(file: string): Promise<KeyObject> {
  const pem = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`cannot read the trusted key ${file}: ${err.code ?? err.message}`, [
      'spec.pipeline.trustedKeys are relative to the stack directory.',
    ]);
  });
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return key;
  } catch {
    // reported below
  }
  throw new InvalidInputError(`${file} is not an Ed25519 public key in PEM`);
}

export function signDigest(digest: string, key: KeyObject, signedBy: string): ArtifactSignature {
  return {
    digest,
    algorithm: 'ed25519',
    signature: sign(null, Buffer.from(digest, 'utf8'), key).toString('base64'),
    keyFingerprint: fingerprintOf(key),
    signedAt: new Date().toISOString(),
    signedBy,
  };
}

/** Whether `s` is a valid signature of `digest` by one of `trusted`. */
export function verifiedBy(s: ArtifactSignature, digest: string, trusted: KeyObject[]): KeyObject | undefined {
  if (s.digest !== digest || s.algorithm !== 'ed25519') return undefined;
  const key = trusted.find((k) => fingerprintOf(k) === s.keyFingerprint);
  if (!key) return undefined;
  try {
    return verify(null, Buffer.from(digest, 'utf8'), key, Buffer.from(s.signature, 'base64')) ? key : undefined;
  } catch {
    return undefined;
  }
}

/** A new key pair: the private key at `file` (owner-only), the public one at `file` + `.pub`. */
export async function writeNewKeyPair(file: string): Promise<{ privateFile: string; publicFile: string; fingerprint: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicFile = `${file}.pub`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs
    .writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' })
    .catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new InvalidInputError(`${file} already exists: a key is never written over`);
      throw err;
    });
  await fs.writeFile(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateFile: file, publicFile, fingerprint: fingerprintOf(publicKey) };
}
