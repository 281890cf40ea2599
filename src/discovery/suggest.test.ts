/** "Did you mean" hints for misspelled fields, kinds and component names. */
import { describe, expect, it } from 'vitest';
import { closest, editDistance } from './suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('replica', 'replicas')).toBe(1);
    expect(editDistance('port', 'port')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
  });
});

describe('closest', () => {
  const fields = ['image', 'command', 'port', 'cpu', 'memory', 'replicas', 'env', 'healthCheck'];

  it('suggests the nearest candidate for a likely typo', () => {
    expect(closest('replica', fields)).toBe('replicas');
    expect(closest('comand', fields)).toBe('command');
    expect(closest('healthcheck', fields)).toBe('healthCheck'); // case differences are free
    expect(closest('MicroServce', ['MicroService', 'S3', 'Service', 'Stack'])).toBe('MicroService');
  });

  it('suggests nothing when no candidate is close enough', () => {
    expect(closest('colour', fields)).toBeUndefined();
    expect(closest('zz', ['port'])).toBeUndefined();
    expect(closest('port', [])).toBeUndefined();
  });

  it('allows more typos in longer words (a third of the length)', () => {
    expect(closest('unhealthyThreshhold', ['unhealthyThreshold'])).toBe('unhealthyThreshold');
    expect(closest('S4', ['S3', 'Stack'])).toBe('S3');
    expect(closest('pxyz', ['port'])).toBeUndefined();
  });
});
