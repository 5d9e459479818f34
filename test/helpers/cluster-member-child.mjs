// A cluster member in its own process, for the cluster chaos test: joins with the reference reactor
// (the built package) and prints one JSON line per event, each stamped with `t`, milliseconds on the
// machine's monotonic clock (process.hrtime: comparable between processes of one machine).
// SIGTERM: leave() (hand every partition over), print `left`, exit 0. Stdin closed (the parent went
// away without stopping it): destroy() and exit 3.
//
//   node cluster-member-child.mjs <nats-url> <cluster> <member-id> [partitions=8] [leaseTtl=1000]
//
// Lines: {"event":"ready","id","pid","owned":[...]} once joined; {"event":"acquired","partition",
// "epoch","ms","sessions"}; {"event":"released","partition","ms"}; {"event":"lost","partition",
// "reason","code"}; {"event":"left","ms"}; {"event":"error","message","code"} (then exit 1).

import { fileURLToPath } from 'node:url';
import { ClusterMember } from '../../dist/src/cluster/index.js';

const REACTOR = fileURLToPath(new URL('../../reactor/reactor.wasm', import.meta.url));
const [nats, cluster, memberId, partitions = '8', leaseTtl = '1000'] = process.argv.slice(2);
if (nats === undefined || cluster === undefined || memberId === undefined) {
  throw new Error(`usage: cluster-member-child.mjs <nats-url> <cluster> <member-id> [partitions] [leaseTtl]; got ${process.argv.slice(2).join(' ')}`);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const print = (event, fields = {}) => process.stdout.write(`${JSON.stringify({ event, t: now(), ...fields })}\n`);
const codeOf = (error) => (error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : undefined);

let member;
try {
  member = await ClusterMember.join({
    nats,
    cluster,
    memberId,
    module: REACTOR,
    partitions: Number(partitions),
    leaseTtl: Number(leaseTtl),
    pool: { stdout: 'ignore', stderr: 'ignore' },
  });
} catch (error) {
  print('error', { message: String(error?.message ?? error), code: codeOf(error) });
  process.exit(1);
}

member.on('partitionAcquired', ({ partition, epoch, ms, sessions }) => print('acquired', { partition, epoch, ms, sessions }));
member.on('partitionReleased', ({ partition, ms }) => print('released', { partition, ms }));
member.on('partitionLost', ({ partition, reason, code }) => print('lost', { partition, reason, code }));
print('ready', { id: member.id, pid: process.pid, owned: member.owned() });

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  const started = now();
  member.leave().then(() => {
    print('left', { ms: now() - started });
    process.exit(0);
  }, (error) => {
    print('error', { message: String(error?.message ?? error), code: codeOf(error) });
    process.exit(1);
  });
});
process.stdin.on('end', () => {
  if (stopping) return;
  stopping = true;
  Promise.resolve(member.destroy()).finally(() => process.exit(3));
}).resume();
