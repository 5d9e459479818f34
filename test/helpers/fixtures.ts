// Paths of the committed wasm modules the tests run, and a collector for reactor output.

import { fileURLToPath } from 'node:url';

const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

export const REACTOR = here('../../reactor/reactor.wasm');

/** A fixture module under test/fixtures (see its README for what each is for). */
export function fixture(name: string): string {
  return here(`../fixtures/${name}`);
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
