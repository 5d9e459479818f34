// Chooses the worker a new session key lives on: rendezvous (highest-random-weight) hashing, so that
// a resized pool moves few keys, with a bounded-load fallback so that no worker gets far more than its share.

/** How far above the mean a worker's session count may go before keys spill to the next choice. */
export const LOAD_FACTOR = 1.25;

/** 32-bit FNV-1a over the key's UTF-16 code units. */
export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The weight of (key, worker): a murmur3 finalizer over the key hash mixed with the worker id. */
export function weight(keyHash: number, workerId: number): number {
  let h = (keyHash ^ Math.imul(workerId + 1, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Picks the worker for a new key: the highest-weight worker whose load is under the cap
 * `ceil(LOAD_FACTOR * (total + 1) / workers)`. `loads[i]` is worker i's current session count.
 */
export function placeKey(key: string, loads: readonly number[]): number {
  const workers = loads.length;
  if (workers === 1) return 0;
  const total = loads.reduce((sum, load) => sum + load, 0);
  const cap = Math.ceil((LOAD_FACTOR * (total + 1)) / workers);
  const keyHash = hashKey(key);
  let best = -1;
  let bestWeight = -1;
  let fallback = 0;
  let fallbackWeight = -1;
  for (let id = 0; id < workers; id++) {
    const w = weight(keyHash, id);
    if (w > fallbackWeight) {
      fallback = id;
      fallbackWeight = w;
    }
    if ((loads[id] ?? 0) < cap && w > bestWeight) {
      best = id;
      bestWeight = w;
    }
  }
  // With cap >= mean load some worker is always under it; the fallback only guards the arithmetic.
  return best === -1 ? fallback : best;
}
