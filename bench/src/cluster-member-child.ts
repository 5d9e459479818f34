// The cluster scenarios' member process: joins the bench's cluster with the reactor and prints the
// partitions it owns (one JSON line at start and at every change) until SIGTERM (leave, exit 0) or
// until its parent goes away (stdin closed: destroy, exit 0).
// node dist/bench/src/cluster-member-child.js <module> <nats-url> <cluster> <member-id> <partitions>

import { ClusterMember } from '../../src/cluster/index.js';

const [module = '', nats = '', cluster = '', memberId = '', partitions = '4'] = process.argv.slice(2);
const member = await ClusterMember.join({ module, nats, cluster, memberId, partitions: Number(partitions), pool: { stdout: 'ignore', stderr: 'ignore' } });
const owned = new Set(member.owned());
const report = (): void => {
  process.stdout.write(`${JSON.stringify({ owned: [...owned].sort((a, b) => a - b) })}\n`);
};
member.on('partitionAcquired', ({ partition }) => {
  owned.add(partition);
  report();
});
member.on('partitionReleased', ({ partition }) => {
  owned.delete(partition);
  report();
});
member.on('partitionLost', ({ partition }) => {
  owned.delete(partition);
  report();
});
report();
let stopping = false;
const stop = (how: () => Promise<void>): void => {
  if (stopping) return;
  stopping = true;
  how().then(() => process.exit(0), (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
};
process.on('SIGTERM', () => stop(() => member.leave()));
process.stdin.on('end', () => stop(() => member.destroy())).resume();
