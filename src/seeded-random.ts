// A small deterministic pseudo-random generator (mulberry32): the demo sends the same calls on every
// run, and tests that draw random plans replay exactly from their seed.

/** A generator of numbers in [0, 1) that yields the same sequence for the same 32-bit `seed`. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
