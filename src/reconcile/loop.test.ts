/** The pause between reconcile cycles. */
import { describe, expect, it } from 'vitest';
import { nextPauseMs } from './loop.js';

describe('nextPauseMs', () => {
  it('is the interval within ±10 %', () => {
    expect(nextPauseMs(300_000, 0, () => 0)).toBe(270_000);
    expect(nextPauseMs(300_000, 0, () => 0.5)).toBe(300_000);
    expect(nextPauseMs(300_000, 0, () => 0.999999)).toBe(330_000);
  });

  it('doubles after each failed cycle in a row, never past 8 intervals', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 10].map((f) => nextPauseMs(60_000, f, mid))).toEqual([120_000, 240_000, 480_000, 480_000, 480_000]);
  });
});
