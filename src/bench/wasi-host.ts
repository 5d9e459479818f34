// Runs the benchmark reactor in the calling thread with plain node:wasi, as the baselines and the
// "direct" scenario do: no pool, no capture, reactor output sent to the null device.

import { openSync } from 'node:fs';
import { devNull } from 'node:os';
import type { WASI as WasiClass } from 'node:wasi';

/** The one export every scenario calls: adds `n` to the reactor's running total and returns it. */
export type IncFn = (n: number) => number;

let wasiClass: typeof WasiClass | undefined;
let nullFd: number | undefined;

/**
 * Loads node:wasi once per thread without printing its ExperimentalWarning, which is about Node's
 * API and would only clutter the benchmark's output.
 */
export async function loadWasi(): Promise<typeof WasiClass> {
  if (wasiClass !== undefined) return wasiClass;
  const emitWarning = process.emitWarning;
  process.emitWarning = function quiet(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message;
    const type = typeof warning === 'string' ? (typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type) : warning.name;
    if (type === 'ExperimentalWarning' && /WASI/.test(text)) return;
    (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    wasiClass = (await import('node:wasi')).WASI;
  } finally {
    process.emitWarning = emitWarning;
  }
  return wasiClass;
}

/**
 * Instantiates the reactor and runs `_initialize` the way the raw baseline does:
 * `new WASI` + `new WebAssembly.Instance` + `wasi.initialize()`. Returns its `inc` export.
 * `WASI` must come from {@link loadWasi}.
 */
export function startReactor(WASI: typeof WasiClass, module: WebAssembly.Module): IncFn {
  nullFd ??= openSync(devNull, 'w');
  const wasi = new WASI({ version: 'preview1', stdout: nullFd, stderr: nullFd });
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport as WebAssembly.ModuleImports });
  wasi.initialize(instance);
  const inc = instance.exports['inc'];
  if (typeof inc !== 'function') throw new TypeError('the benchmark reactor must export a function inc(i32) -> i32');
  return inc as IncFn;
}
