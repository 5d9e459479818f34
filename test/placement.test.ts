import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOAD_FACTOR, placeKey } from '../dist/src/placement.js';

function placeAll(keys: readonly string[], workers: number): number[] {
  const loads = new Array<number>(workers).fill(0);
  return keys.map((key) => {
    const worker = placeKey(key, loads);
    loads[worker] = (loads[worker] as number) + 1;
    return worker;
  });
}

describe('placement: rendezvous hashing with bounded load', () => {
  it('is deterministic for a key given the same loads', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), fc.array(fc.nat(50), { minLength: 1, maxLength: 16 }), (key, loads) => {
      expect(placeKey(key, loads)).toBe(placeKey(key, loads));
      const worker = placeKey(key, loads);
      expect(worker).toBeGreaterThanOrEqual(0);
      expect(worker).toBeLessThan(loads.length);
    }));
  });

  it('never lets a worker exceed the load cap', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 12 }), (keys, workers) => {
      const counts = new Array<number>(workers).fill(0);
      for (const worker of placeAll(keys, workers)) counts[worker] = (counts[worker] as number) + 1;
      const cap = Math.ceil((LOAD_FACTOR * keys.length) / workers);
      for (const count of counts) expect(count).toBeLessThanOrEqual(Math.max(cap, 1));
    }));
  });

  it('moves few keys when a worker is added', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `session-${i}`);
    const before = placeAll(keys, 4);
    const after = placeAll(keys, 5);
    const moved = keys.filter((_, i) => before[i] !== after[i]).length;
    // Ideal is 1/5 of the keys; a modulo hash would move about 4/5.
    expect(moved / keys.length).toBeLessThan(0.4);
  });
});
