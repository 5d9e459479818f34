// A cluster client in its own process, for the cluster chaos test (the built package).
//
// `drive` runs many sessions at once, one `inc(n)` in flight per session, each call with its own
// idempotency key and an increment that is a power of two (the session's k-th call adds
// 2^((offset + k) mod 31), the offset seeded), so the model can tell from any value which of a
// session's unacknowledged calls applied. Every call is written to a record file with synchronous
// writes before it is sent and after it settled (a kill loses nothing recorded), timestamped in
// milliseconds on the machine's monotonic clock (process.hrtime: comparable between processes).
// Stops issuing on a `stop` line on stdin, SIGTERM, `calls` sent or `ms` elapsed; then waits for the
// calls in flight, records `done` and exits 0. Stdin closed without `stop`: exit 3 at once.
//
//   node cluster-client-child.mjs drive <nats-url> <cluster> <record> <seed> <sessions> <calls> <ms> <partitions> <callTimeout> <requestTimeout>
//   node cluster-client-child.mjs read <nats-url> <cluster> <seed> <sessions>
//
// Record lines: `sent <session> <id> <n> <partition> <t>`, `ack <session> <id> <value> <t>`,
// `fail <session> <id> <code> <t>`, `done <t>`. Stdout: `ready`, then `acks <count>` at every 100th
// acknowledgement and `done`. `read` prints one JSON line {"values": {<session>: inc(0) or "ERR_..."}}.

import { openSync, writeSync } from 'node:fs';
import { ClusterClient } from '../../dist/src/cluster/index.js';
import { partitionOf } from '../../dist/src/cluster/cluster-names.js';
import { seeded } from '../../dist/src/seeded-random.js';

const [mode, nats, cluster, ...rest] = process.argv.slice(2);
if (nats === undefined || cluster === undefined) throw new Error(`usage: cluster-client-child.mjs drive|read <nats-url> <cluster> ...; got ${process.argv.slice(2).join(' ')}`);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const codeOf = (error) => (error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : 'ERR_UNCODED');
const print = (line) => process.stdout.write(`${line}\n`);
/** Session names: seeded, so another seed puts the sessions on other partitions. */
const sessionName = (seed, i) => `s${(seed >>> 0).toString(36)}-${i}`;

if (mode === 'drive') await drive(rest[0], ...rest.slice(1).map(Number));
else if (mode === 'read') await read(...rest.map(Number));
else throw new Error(`unknown mode ${JSON.stringify(mode)}`);

async function drive(recordPath, seed, sessions, calls, ms, partitions, callTimeout, requestTimeout) {
  const record = openSync(recordPath, 'w');
  const note = (line) => writeSync(record, `${line} ${now().toFixed(3)}\n`);
  const client = await ClusterClient.connect({ nats, cluster, callTimeout, requestTimeout });
  const random = seeded(seed);
  const started = now();
  let stopping = false;
  let sent = 0;
  let acks = 0;
  const stop = () => {
    stopping = true;
  };
  process.on('SIGTERM', stop);
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (chunk) => {
    input += chunk;
    if (input.split('\n').includes('stop')) stop();
  }).on('end', () => {
    if (!stopping) process.exit(3);
  });
  const more = () => !stopping && sent < calls && now() - started < ms;

  const run = async (i) => {
    const name = sessionName(seed, i);
    const session = client.session(name);
    const partition = partitionOf(name, partitions);
    const offset = Math.floor(random() * 31);
    for (let k = 0; more(); k++) {
      const id = `${name}.${k}`;
      const n = 2 ** ((offset + k) % 31);
      sent++;
      note(`sent ${name} ${id} ${n} ${partition}`);
      try {
        const value = await session.with({ idempotencyKey: id }).call('inc', n);
        note(`ack ${name} ${id} ${value}`);
        if (++acks % 100 === 0) print(`acks ${acks}`);
      } catch (error) {
        note(`fail ${name} ${id} ${codeOf(error)}`);
      }
    }
  };
  print('ready');
  await Promise.all(Array.from({ length: sessions }, (_, i) => run(i)));
  note('done');
  await client.close();
  print('done');
  process.exit(0);
}

async function read(seed, sessions) {
  const client = await ClusterClient.connect({ nats, cluster });
  const values = {};
  await Promise.all(Array.from({ length: sessions }, async (_, i) => {
    const name = sessionName(seed, i);
    values[name] = await client.session(name).call('inc', 0).then((value) => value, codeOf);
  }));
  await client.close();
  print(JSON.stringify({ values }));
  process.exit(0);
}
