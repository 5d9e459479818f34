// The child of test/durability-kill.test.ts, on the built package. `drive` makes seeded `inc(n)` calls
// with idempotency keys on many durable sessions, recording `sent` before and `ack` after each, until the
// parent kills it (SIGKILL). `verify` opens the same directory, reads every session, retries the calls
// the record shows unacknowledged (keys and arguments on stdin, JSON) and prints one JSON report.
//
//   node durable-child.mjs drive <module> <dir> <record> <seed> <sessions> <calls> <window>
//   node durable-child.mjs verify <module> <dir>     (stdin: {"sessions":[{"id","retry":[{key,n}],"repeat":[{key,n}]}]})

import { openSync, writeSync } from 'node:fs';
import { ReactorPool } from '../../dist/src/index.js';
import { seeded } from '../../dist/src/seeded-random.js';

const [mode, module, dir, ...rest] = process.argv.slice(2);
if (module === undefined || dir === undefined) throw new Error(`usage: durable-child.mjs drive|verify <module> <dir> ...; got ${process.argv.slice(2).join(' ')}`);
const open = () => ReactorPool.create({ module, workers: 2, stdout: 'ignore', stderr: 'ignore', durability: { dir } });
const codeOf = (error) => (error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : String(error));
const print = (line) => process.stdout.write(`${line}\n`);

if (mode === 'drive') await drive(rest[0], ...rest.slice(1).map(Number));
else if (mode === 'verify') await verify(JSON.parse(await readStdin()));
else throw new Error(`unknown mode ${JSON.stringify(mode)}`);

async function drive(recordPath, seed, sessions, calls, window) {
  // The record is what the parent checks: written to a file before the call is made (or after it
  // settled), it survives SIGKILL. Stdout only tells the parent when to kill: once the parent falls
  // behind, stdout's writes wait in this process and die with it.
  const record = openSync(recordPath, 'w');
  const note = (line) => {
    writeSync(record, `${line}\n`);
    print(line);
  };
  // The parent ends stdin only if it goes away without killing us.
  process.stdin.on('end', () => process.exit(3)).resume();
  const pool = await open();
  print('ready');
  const next = seeded(seed);
  let issued = 0;
  const issue = async () => {
    const i = issued++;
    const id = `s${Math.floor(next() * sessions)}`;
    const n = 1 + Math.floor(next() * 9);
    const key = `k${i}`;
    note(`sent ${id} ${key} ${n}`);
    try {
      note(`ack ${id} ${key} ${n} ${await pool.session(id).with({ idempotencyKey: key }).call('inc', n)}`);
    } catch (error) {
      note(`fail ${id} ${key} ${n} ${codeOf(error)}`);
    }
    if (issued < calls) await issue();
  };
  await Promise.all(Array.from({ length: Math.min(window, calls) }, issue));
  // Every call acknowledged before the parent's kill: wait for it (stdin keeps the process alive).
  note('done');
}

async function verify(plan) {
  const pool = await open();
  // Before any call: a call (even inc(0)) would make its session durable.
  const durable = [...await pool.durableSessions()].sort();
  const sessions = {};
  await Promise.all(plan.sessions.map(async ({ id, retry, repeat }) => {
    const session = pool.session(id);
    const outcome = (key, n) => session.with({ idempotencyKey: key }).call('inc', n).then((value) => value, (error) => codeOf(error));
    // All submitted at once, in order: a session runs its calls in submission order.
    const before = session.call('inc', 0).then((value) => value, codeOf);
    const retries = retry.map(({ key, n }) => outcome(key, n));
    const repeats = repeat.map(({ key, n }) => outcome(key, n));
    const after = session.call('inc', 0).then((value) => value, codeOf);
    sessions[id] = { before: await before, retries: await Promise.all(retries), repeats: await Promise.all(repeats), after: await after };
  }));
  await pool.close();
  print(JSON.stringify({ durable, sessions }));
}

function readStdin() {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8').on('data', (chunk) => {
      text += chunk;
    }).on('end', () => resolve(text)).on('error', reject);
  });
}
