// `reactor-pool status`: what a cluster looks like from here — its members (with how long ago this
// process saw each one's heartbeat), its partitions and their owners — as text or JSON.

import type { ClusterStatus } from '../cluster/cluster-status.js';
import { CLUSTER_FLAGS_HELP, type ClusterFlags } from './cluster-flags.js';

export const STATUS_HELP = `Usage: reactor-pool status --nats URL --cluster NAME [--json]

Prints a cluster's state as a client sees it: its partition count and module,
its members (id, host, pid, partitions owned, sessions held, how long ago their
last heartbeat was seen here, whether they are leaving) and each partition's
owner and lease epoch. Runs no module.

Options:
${CLUSTER_FLAGS_HELP}
  --json               print the state as one JSON object: {"cluster", "partitions",
                       "identity", "members": [{"id", "host", "pid", "startedAt",
                       "draining", "partitions", "sessions", "heartbeatAge" (ms)}],
                       "leases": [{"partition", "owner", "epoch"}], "unreadable"}; an
                       error prints {"error": {"code", "message"}}
  -h, --help           show this help

Exit codes: 0 the state was printed, 1 a failure (NATS unreachable, or no
member ever joined the cluster: ERR_CLUSTER_UNAVAILABLE), 2 a usage mistake.`;

export interface StatusArgs extends ClusterFlags {
  readonly json: boolean;
}

export async function statusCommand(args: StatusArgs, write: (line: string) => void): Promise<number> {
  // Loaded here, so the other commands never load the NATS client.
  const { ClusterClient } = await import('../cluster/cluster-client.js');
  const client = await ClusterClient.connect({ nats: args.servers, cluster: args.cluster });
  let status: ClusterStatus;
  try {
    status = await client.status();
  } finally {
    await client.close();
  }
  if (args.json) write(JSON.stringify(status));
  else for (const line of statusText(status)) write(line);
  return 0;
}

/** The text report: a heading, a line per member, a line per partition. */
export function statusText(status: ClusterStatus): string[] {
  const lines = [`cluster ${status.cluster}: ${status.partitions} partitions, module sha256:${status.identity}`];
  lines.push(`members: ${status.members.length}`);
  for (const member of status.members) {
    lines.push(`  ${member.id}  ${member.host} pid ${member.pid}  ${member.partitions.length} partitions [${member.partitions.join(' ')}]`
      + `  ${member.sessions} sessions  heartbeat ${Math.round(member.heartbeatAge)} ms ago${member.draining ? '  leaving' : ''}`);
  }
  lines.push('partitions:');
  const leases = new Map(status.leases.map((lease) => [lease.partition, lease]));
  for (let partition = 0; partition < status.partitions; partition++) {
    const lease = leases.get(partition);
    lines.push(`  ${partition}  ${lease?.owner ?? '(no owner)'}${lease === undefined ? '' : `  epoch ${lease.epoch}`}`);
  }
  return lines;
}
