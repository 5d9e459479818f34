// Paths of the committed wasm modules the tests run, and a collector for reactor output.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

export const REACTOR = here('../../reactor/reactor.wasm');

/**
 * Fresh builds whose bytes could not be compared with the committed ones (made by another toolchain
 * version than test/fixtures/toolchains.env records): the rebuild scripts put them there and CI
 * points this at them, so their behaviour is tested instead.
 */
const FRESH = process.env['REACTOR_POOL_FRESH_FIXTURES'] ?? '';

/** A fixture module under test/fixtures (see its README for what each is for), or its fresh build. */
export function fixture(name: string): string {
  const fresh = FRESH === '' ? undefined : join(FRESH, name);
  return fresh !== undefined && existsSync(fresh) ? fresh : here(`../fixtures/${name}`);
}

export const KITCHEN = fixture('kitchen.wasm');

/** Collects reactor output per session key, for the pool's `stdout`/`stderr` callbacks. */
export class OutputCollector {
  readonly #text = new Map<string, string>();
  readonly callback = (chunk: Uint8Array, key: string): void => {
    this.#text.set(key, (this.#text.get(key) ?? '') + Buffer.from(chunk).toString('utf8'));
  };

  of(key: string): string {
    return this.#text.get(key) ?? '';
  }

  keys(): string[] {
    return [...this.#text.keys()];
  }
}
