// A small seeded pseudo-random generator (mulberry32): the same seed gives the same sequence, so
// a generated test input or benchmark workload can be made again exactly. Plain JS, so that the
// tests and the benchmarks share it.

/** Numbers in [0, 1), the same sequence for the same seed. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
