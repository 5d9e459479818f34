// The recovery scenario's child process: opens a durable pool on a directory, makes every session's
// calls, prints `ready` once all are acknowledged and waits to be killed (SIGKILL: no close, no flush).
// node dist/bench/src/durable-recovery-child.js <module> <dir> <sessions> <workers>

import { ReactorPool } from '../../src/index.js';
import { RECOVERY_CALLS_PER_SESSION, recoveryArg, recoveryKey } from './recovery-plan.js';
import { windowed } from './scenario.js';

const [module = '', dir = '', sessions = '0', workers = '1'] = process.argv.slice(2);
const pool = await ReactorPool.create({ module, workers: Number(workers), stdout: 'ignore', stderr: 'ignore', durability: { dir } });
let next = 0;
await windowed(Number(sessions), 1000, async () => {
  const i = next++;
  const session = pool.session(recoveryKey(i));
  // In flight together: one session's calls share a journal flush.
  await Promise.all(Array.from({ length: RECOVERY_CALLS_PER_SESSION }, (_, k) => session.call('inc', recoveryArg(i, k))));
});
process.stdout.write('ready\n');
// Until the parent kills it; a parent gone without killing it ends its stdin.
process.stdin.on('end', () => process.exit(3)).resume();
