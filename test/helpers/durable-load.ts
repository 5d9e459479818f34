// Load for the durability fault tests: seeded `inc(n)` calls on many sessions with a window of calls
// in flight, and faults injected when a given number of calls has settled (a handshake, not a timer).

import type { ReactorPool } from '../../dist/src/index.js';
import type { IncModel } from './inc-model.js';

export interface LoadPlan {
  readonly pool: ReactorPool;
  readonly model: IncModel;
  readonly keys: readonly string[];
  /** Calls in all. */
  readonly calls: number;
  /** Calls in flight at once. */
  readonly window: number;
  readonly random: () => number;
  /** Each fault runs once `after` calls have settled, while the rest are in flight. */
  readonly faults: readonly { readonly after: number; readonly run: () => Promise<unknown> }[];
}

/** Runs the load and its faults to the end; the model holds every outcome (call `model.verify` next). */
export async function runLoad(plan: LoadPlan): Promise<void> {
  const faults: Promise<unknown>[] = [];
  let issued = 0;
  let settled = 0;
  const issue = async (): Promise<void> => {
    while (issued < plan.calls) {
      issued++;
      const key = plan.keys[Math.floor(plan.random() * plan.keys.length)] as string;
      const n = 1 + Math.floor(plan.random() * 9);
      await plan.model.send(plan.pool.session(key), n);
      settled++;
      for (const fault of plan.faults) {
        if (fault.after !== settled) continue;
        const done = fault.run();
        done.catch(() => {}); // awaited below, after the load: reported there
        faults.push(done);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.window, plan.calls) }, issue));
  await Promise.all(faults);
  await plan.model.settle();
}
