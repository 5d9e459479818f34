// Run under `ulimit -v` by test/instance-limit-engine.test.ts: starts sessions (no maxInstances)
// until V8 cannot reserve another wasm memory, then checks how that start was reported.
// Prints one JSON line with what it saw.

import { ReactorPool } from '../../dist/src/index.js';

const [module] = process.argv.slice(2);
const pool = await ReactorPool.create({ module, workers: 1, maxInstances: Number.POSITIVE_INFINITY, stderr: 'ignore' });
const codeOf = async (promise) => {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error.code;
  }
};
let started = 0;
let refused;
for (; started < 1000; started++) {
  const session = pool.session(`s${started}`);
  // Two calls in one batch: the first starts the instance, the second runs on it (or finds it refused).
  const first = session.call('inc', 1).catch((error) => error);
  const second = session.call('inc', 1).catch((error) => error);
  const [a, b] = await Promise.all([first, second]);
  if (a !== 21) {
    refused = { session, first: a, second: b };
    break;
  }
}
const report = { started, instancesBefore: pool.stats().instances };
if (refused !== undefined) {
  const { session, first, second } = refused;
  Object.assign(report, {
    code: first.code,
    retryable: first.retryable,
    message: first.message,
    secondCode: second.code,
    lost: session.lost,
    lostSessions: pool.stats().lostSessions,
    instancesAfterRefusal: pool.stats().instances,
    retryBeforeRoom: await codeOf(session.call('inc', 1)),
  });
  await pool.session('s0').close();
  report.instancesAfterClose = pool.stats().instances;
  report.retryAfterRoom = await session.call('inc', 1).catch((error) => error.code);
  report.instancesAtEnd = pool.stats().instances;
}
await pool.close();
console.log(JSON.stringify(report));
