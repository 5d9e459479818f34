// The in-thread references: calling the reactor's `inc` export directly from JavaScript (the
// machine limit), and raw instance activations (`new WASI` + instance + `initialize()`).

import { RunningTotals } from './check.js';
import { measure } from './measure.js';
import type { ScenarioResult } from './results.js';
import { headOf, measuredResult, type ScenarioContext } from './scenario.js';
import { loadWasi, startReactor } from './wasi-host.js';

/** A loop of `exports.inc(1)` in the calling thread on one instance; each iteration's last result checked. */
export async function directScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const inc = startReactor(await loadWasi(), ctx.module);
  const totals = new RunningTotals(1, ctx.initial);
  totals.checkFinal(0, inc(0));
  const calls = ctx.sizes.directCalls;
  const iteration = (): void => {
    let last = 0;
    for (let i = 0; i < calls; i++) last = inc(1);
    // The total is a running sum, so the last value checks every call before it.
    totals.check(0, totals.advance(0, calls), last);
  };
  const measured = await measure('direct', iteration, calls, ctx.plan, false);
  totals.checkFinal(0, inc(0));
  return measuredResult(
    headOf('direct', 0), measured, totals,
    `loop of ${calls.toLocaleString('en-US')} exports.inc(1) per sample in the main thread; each sample's last value checked`,
  );
}

/** Raw activations in the calling thread: `new WASI` + `new WebAssembly.Instance` + `initialize()` + `inc(1)`. */
export async function rawActivationScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const WASI = await loadWasi();
  const totals = new RunningTotals(1, ctx.initial);
  const want = (ctx.initial + 1) | 0;
  const perIteration = ctx.sizes.rawActivations;
  const iteration = (): void => {
    for (let k = 0; k < perIteration; k++) totals.check(0, want, startReactor(WASI, ctx.module)(1));
  };
  const measured = await measure('activations raw', iteration, perIteration, ctx.plan, false);
  return measuredResult(
    headOf('activations-raw', 0), measured, totals,
    'new WASI + new WebAssembly.Instance + wasi.initialize() + inc(1), from a compiled module; output discarded by a JavaScript fd_write (as the pool does)',
  );
}
