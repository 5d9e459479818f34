// The conformance reactors: one contract (see test/fixtures/conformance/README.md), built by each
// toolchain. Every file in this folder runs its checks against each of them.

import { fixture } from '../helpers/fixtures.js';

export interface ConformanceModule {
  /** Toolchain name, as in the README's compatibility table. */
  readonly name: 'zig' | 'c' | 'go' | 'rust';
  readonly path: string;
  /** The allocator convention the module exports (each toolchain uses a different one on purpose). */
  readonly allocator: 'malloc' | 'alloc' | 'cabi_realloc';
  /**
   * What `boom()` (a trap after adding 1000) looks like to the host: a wasm trap, or, for Go, whose
   * runtime turns a panic into printing and `proc_exit(2)`, an exit.
   */
  readonly boom: { readonly code: 'ERR_REACTOR_TRAP' } | { readonly code: 'ERR_REACTOR_EXIT'; readonly exitCode: number };
  /** The host frees buffer results (false with cabi_realloc alone: results live in module-owned memory). */
  readonly freesResults: boolean;
}

export const MODULES: readonly ConformanceModule[] = [
  { name: 'zig', path: fixture('conformance/zig.wasm'), allocator: 'cabi_realloc', boom: { code: 'ERR_REACTOR_TRAP' }, freesResults: false },
  { name: 'c', path: fixture('conformance/c.wasm'), allocator: 'malloc', boom: { code: 'ERR_REACTOR_TRAP' }, freesResults: true },
  { name: 'go', path: fixture('conformance/go.wasm'), allocator: 'malloc', boom: { code: 'ERR_REACTOR_EXIT', exitCode: 2 }, freesResults: true },
  { name: 'rust', path: fixture('conformance/rust.wasm'), allocator: 'alloc', boom: { code: 'ERR_REACTOR_TRAP' }, freesResults: true },
];
