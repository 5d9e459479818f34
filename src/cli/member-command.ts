// `reactor-pool member`: runs a cluster member in this process (it joins, owns partitions, serves
// them) and prints one line per ownership event; SIGTERM or SIGINT leaves gracefully, a second one
// stops at once.

import type { ClusterMember } from '../cluster/cluster-member.js';
import { CLUSTER_FLAGS_HELP, type ClusterFlags } from './cluster-flags.js';
import type { ListenAddress, MetricsEndpoint } from './metrics-endpoint.js';

/** The bounds `--partitions` and `--lease-ttl` take (those of the member's own options). */
export const MAX_PARTITIONS = 4096;
export const MIN_LEASE_TTL = 100;
export const MAX_LEASE_TTL = 600_000;

export const MEMBER_HELP = `Usage: reactor-pool member --nats URL --cluster NAME [options] <module>

Joins the cluster NAME on NATS JetStream as a member running <module>: the
member takes its share of the cluster's partitions (each a durable pool whose
journal lives in the cluster's stream), serves the sessions whose keys map to
them, and prints one line per ownership event. Clients (ClusterClient.connect)
and other members reach those sessions through NATS.

SIGTERM or SIGINT leaves gracefully: the member stops taking partitions, hands
each of its own over (finishing the calls it accepted) and exits 0. A second
signal stops it at once (exit 1): its partitions are taken over once its lease
expires, and every acknowledged call is in the stream.

Options:
${CLUSTER_FLAGS_HELP}
  --partitions N       partitions session keys map to, fixed by the cluster's first
                       member; a member joining with another number is refused
                       (ERR_CLUSTER_MISMATCH; default: 16, at most ${MAX_PARTITIONS})
  --lease-ttl MS       milliseconds without a heartbeat after which other members
                       take this one's partitions over (default: 1000; ${MIN_LEASE_TTL} to ${MAX_LEASE_TTL})
  --workers N          worker threads of each owned partition's pool (default: 1)
  --member-id ID       this member's id: 1 to 64 letters, digits, "_" or "-"
                       (default: a random one)
  --replicas N         copies NATS keeps of the cluster's stream and KV bucket when
                       this member creates them (1 to 5, at most the NATS cluster's
                       servers; default: 1)
  --metrics [HOST:]PORT
                       serve the member's Prometheus metrics at
                       http://HOST:PORT/metrics (HOST default 127.0.0.1; port 0 takes a
                       free one, printed in the "metrics" event); needs prom-client
  --json               print each event as a JSON object on its own line:
                       {"event": "joined" | "metrics" | "partitionAcquired" |
                       "partitionReleased" | "partitionLost" | "leaving" | "left" |
                       "destroyed", ...}; an error prints {"error": {"code",
                       "message"}}
  -h, --help           show this help

The module's own output (stdout and stderr) goes to stderr, so stdout holds the
events only. Exit codes: 0 after a graceful leave, 1 a failure (the module, NATS,
ERR_CLUSTER_MISMATCH) or a second signal, 2 a usage mistake.`;

export interface MemberArgs extends ClusterFlags {
  readonly module: string;
  readonly partitions: number | undefined;
  readonly leaseTtl: number | undefined;
  readonly workers: number | undefined;
  readonly memberId: string | undefined;
  readonly replicas: number | undefined;
  readonly metrics: ListenAddress | undefined;
  readonly json: boolean;
}

/** One line of the member's log, as text or as JSON. */
type MemberEvent =
  | { readonly event: 'joined'; readonly member: string; readonly cluster: string }
  | { readonly event: 'metrics'; readonly url: string }
  | { readonly event: 'partitionAcquired'; readonly partition: number; readonly epoch: number; readonly ms: number }
  | { readonly event: 'partitionReleased'; readonly partition: number; readonly ms: number }
  | { readonly event: 'partitionLost'; readonly partition: number; readonly reason: string; readonly code: string | null }
  | { readonly event: 'leaving'; readonly signal: string }
  | { readonly event: 'left' }
  | { readonly event: 'destroyed'; readonly signal: string };

function eventText(event: MemberEvent): string {
  switch (event.event) {
    case 'joined':
      return `member ${event.member} joined cluster ${event.cluster}`;
    case 'metrics':
      return `metrics at ${event.url}`;
    case 'partitionAcquired':
      return `acquired partition ${event.partition} (epoch ${event.epoch}, ${event.ms} ms)`;
    case 'partitionReleased':
      return `released partition ${event.partition} (${event.ms} ms)`;
    case 'partitionLost':
      return `lost partition ${event.partition}: ${event.reason}${event.code === null ? '' : ` [${event.code}]`}`;
    case 'leaving':
      return `${event.signal}: leaving, handing every partition over`;
    case 'left':
      return 'left the cluster';
    case 'destroyed':
      return `${event.signal} again: stopped at once`;
  }
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Runs the member until a signal ends it: resolves 0 after a graceful leave, 1 after a second signal. */
export async function memberCommand(args: MemberArgs, write: (line: string) => void): Promise<number> {
  // `left` or `destroyed` is the last line: what the member reports while it stops after that is not news.
  let ended = false;
  const emit = (event: MemberEvent): void => {
    if (ended) return;
    ended = event.event === 'left' || event.event === 'destroyed';
    write(args.json ? JSON.stringify(event) : eventText(event));
  };
  // Signals are watched before joining: one that comes while the member joins leaves right after.
  const signals: string[] = [];
  let onSignal = (signal: string): void => {
    signals.push(signal);
  };
  const listener = (signal: NodeJS.Signals): void => onSignal(signal);
  for (const signal of SIGNALS) process.on(signal, listener);
  const stopWatching = (): void => {
    for (const signal of SIGNALS) process.off(signal, listener);
  };
  let member: ClusterMember;
  try {
    // Loaded here, so the other commands never load the NATS client.
    const { ClusterMember } = await import('../cluster/cluster-member.js');
    const toStderr = (chunk: Uint8Array): void => {
      process.stderr.write(chunk);
    };
    member = await ClusterMember.join({
      nats: args.servers,
      cluster: args.cluster,
      module: args.module,
      pool: { workers: args.workers ?? 1, stdout: toStderr, stderr: toStderr },
      ...(args.partitions === undefined ? {} : { partitions: args.partitions }),
      ...(args.leaseTtl === undefined ? {} : { leaseTtl: args.leaseTtl }),
      ...(args.memberId === undefined ? {} : { memberId: args.memberId }),
      ...(args.replicas === undefined ? {} : { replicas: args.replicas }),
    });
  } catch (error) {
    stopWatching();
    throw error;
  }
  emit({ event: 'joined', member: member.id, cluster: args.cluster });
  member.on('partitionAcquired', ({ partition, epoch, ms }) => emit({ event: 'partitionAcquired', partition, epoch, ms: Math.round(ms) }));
  member.on('partitionReleased', ({ partition, ms }) => emit({ event: 'partitionReleased', partition, ms: Math.round(ms) }));
  member.on('partitionLost', ({ partition, reason, code }) => emit({ event: 'partitionLost', partition, reason, code: code ?? null }));
  let endpoint: MetricsEndpoint | undefined;
  if (args.metrics !== undefined) {
    try {
      const { serveMemberMetrics } = await import('./metrics-endpoint.js');
      endpoint = await serveMemberMetrics(member, args.metrics);
    } catch (error) {
      stopWatching();
      await member.leave();
      throw error;
    }
    emit({ event: 'metrics', url: endpoint.url });
  }
  const stopServing = (): Promise<void> => endpoint?.close() ?? Promise.resolve();
  return new Promise<number>((resolve, reject) => {
    let leaving = false;
    let destroying = false;
    onSignal = (signal) => {
      if (leaving) {
        // The second signal: stop now; the leases expire and other members take the partitions over.
        destroying = true;
        stopWatching();
        member.destroy().then(stopServing).then(() => {
          emit({ event: 'destroyed', signal });
          resolve(1);
        }, reject);
        return;
      }
      leaving = true;
      emit({ event: 'leaving', signal });
      member.leave().then(stopServing).then(() => {
        if (destroying) return;
        stopWatching();
        emit({ event: 'left' });
        resolve(0);
      }, (error: unknown) => {
        stopWatching();
        reject(error);
      });
    };
    for (const signal of signals) onSignal(signal);
  });
}
