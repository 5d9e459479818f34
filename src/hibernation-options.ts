// The hibernation options of a pool (`idleTimeout`, `maxActiveSessions`, `maxActiveMemory`, `store`),
// checked up front; whether hibernation is on is decided once the module is known (it must be snapshottable).

import { InvalidOptionError, describeValue } from './errors.js';
import { resolveStore, type SnapshotStore } from './snapshot-store.js';

/** Active sessions at most by default, when hibernation is possible: half of the default instance cap. */
export const DEFAULT_MAX_ACTIVE_SESSIONS = 5_000;

export interface HibernationOptions {
  /** Milliseconds without an operation before a session hibernates; `Infinity`: not for idleness. */
  readonly idleTimeout: number;
  /** Active sessions at most; undefined: the default ({@link DEFAULT_MAX_ACTIVE_SESSIONS}, within `maxInstances`). */
  readonly maxActiveSessions: number | undefined;
  readonly maxActiveMemory: number;
  readonly store: SnapshotStore;
  /** Whether any of them was given: hibernation was asked for, so a pool that cannot snapshot is refused. */
  readonly asked: boolean;
}

export const HIBERNATION_OPTIONS = ['idleTimeout', 'maxActiveSessions', 'maxActiveMemory', 'store'] as const;

export function resolveHibernationOptions(given: Readonly<Record<string, unknown>>): HibernationOptions {
  return {
    idleTimeout: milliseconds('idleTimeout', given['idleTimeout']),
    maxActiveSessions: given['maxActiveSessions'] === undefined ? undefined : limit('maxActiveSessions', given['maxActiveSessions']),
    maxActiveMemory: given['maxActiveMemory'] === undefined ? Number.POSITIVE_INFINITY : limit('maxActiveMemory', given['maxActiveMemory']),
    store: resolveStore(given['store']),
    asked: HIBERNATION_OPTIONS.some((name) => given[name] !== undefined),
  };
}

function milliseconds(name: string, value: unknown): number {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new InvalidOptionError(`Expected \`${name}\` to be milliseconds from 0 to ${2 ** 31 - 1}, or Infinity, got ${describeValue(value)}`);
  }
  return value;
}

function limit(name: string, value: unknown): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`Expected \`${name}\` to be a positive integer or Infinity, got ${describeValue(value)}`);
  }
  return value;
}
