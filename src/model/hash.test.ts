/** Canonical JSON and hashes (hash.ts): what every stored hash (state, plans, the ledger's chain) is computed from. */
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashOf, sha256 } from './hash.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"z":1}]},"b":1}');
  });

  it('hashes the same data alike whatever its key order, as SHA-256 in hex', () => {
    expect(hashOf({ a: 1, b: [1, 2] })).toBe(hashOf({ b: [1, 2], a: 1 }));
    // FIPS 180-2's example vector.
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256(new TextEncoder().encode('abc'))).toBe(sha256('abc'));
  });
});
