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
   * The toolchain's runtime is unusable after a trap (Go: a panic aborts its runtime with
   * `unreachable`; calls after it may work or fail). The pool keeps the instance as for any trap
   * (onTrap 'keep'); such reactors want `onTrap: 'lose'` or `'reset'`.
   */
  readonly trapBreaksRuntime: boolean;
  /** The host frees buffer results (false with cabi_realloc alone: results live in module-owned memory). */
  readonly freesResults: boolean;
  /** The same toolchain's host-function plug-in (imports `env.host_add` and `env.lookup`; see host/ in the fixtures). */
  readonly hostPlugin: string;
}

export const MODULES: readonly ConformanceModule[] = [
  { name: 'zig', path: fixture('conformance/zig.wasm'), hostPlugin: fixture('conformance/host-zig.wasm'), allocator: 'cabi_realloc', trapBreaksRuntime: false, freesResults: false },
  { name: 'c', path: fixture('conformance/c.wasm'), hostPlugin: fixture('conformance/host-c.wasm'), allocator: 'malloc', trapBreaksRuntime: false, freesResults: true },
  { name: 'go', path: fixture('conformance/go.wasm'), hostPlugin: fixture('conformance/host-go.wasm'), allocator: 'malloc', trapBreaksRuntime: true, freesResults: true },
  { name: 'rust', path: fixture('conformance/rust.wasm'), hostPlugin: fixture('conformance/host-rust.wasm'), allocator: 'alloc', trapBreaksRuntime: false, freesResults: true },
];
