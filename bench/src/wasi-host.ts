// Runs the benchmark reactor in the calling thread with plain node:wasi, as the baselines and the
// "direct" scenario do: no pool, no capture, reactor output discarded in JavaScript.

import type { WASI as WasiClass } from 'node:wasi';
import { loadWasi as loadQuietWasi } from '../../workers/quiet-wasi.js';

/** The one export every scenario calls: adds `n` to the reactor's running total and returns it. */
export type IncFn = (n: number) => number;

let wasiClass: Promise<typeof WasiClass> | undefined;

/** node:wasi, loaded once per thread the way the pool's workers load it (without its ExperimentalWarning). */
export function loadWasi(): Promise<typeof WasiClass> {
  wasiClass ??= loadQuietWasi();
  return wasiClass;
}

const ERRNO_SUCCESS = 0;

/**
 * Discards what the reactor writes, in JavaScript. On Node 20, instantiating and initializing
 * thousands of reactors in one hot loop with node:wasi's native `fd_write` crashed V8 (a segfault
 * or a failed deoptimizer check after 5,000–10,000 instances here; Node 24 does not). The pool
 * replaces `fd_write` the same way to capture output, so the baseline stays like for like.
 */
function discardingFdWrite(memory: () => WebAssembly.Memory) {
  return (_fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
    const view = new DataView(memory().buffer);
    let total = 0;
    for (let i = 0; i < iovsLen; i++) total += view.getUint32(iovs + i * 8 + 4, true);
    view.setUint32(nwritten, total, true);
    return ERRNO_SUCCESS;
  };
}

/**
 * Instantiates the reactor and runs `_initialize` the way the raw-activation baseline does:
 * `new WASI` + `new WebAssembly.Instance` + `wasi.initialize()`. Returns its `inc` export.
 * `WASI` must come from {@link loadWasi}.
 */
export function startReactor(WASI: typeof WasiClass, module: WebAssembly.Module): IncFn {
  const wasi = new WASI({ version: 'preview1' });
  // Read lazily: the instance's fd_write runs only once the instance exists.
  const fdWrite = discardingFdWrite(() => instance.exports['memory'] as WebAssembly.Memory);
  const instance = new WebAssembly.Instance(module, {
    wasi_snapshot_preview1: { ...(wasi.wasiImport as WebAssembly.ModuleImports), fd_write: fdWrite },
  });
  wasi.initialize(instance);
  const inc = instance.exports['inc'];
  if (typeof inc !== 'function') throw new TypeError('the benchmark reactor must export a function inc(i32) -> i32');
  return inc as IncFn;
}
