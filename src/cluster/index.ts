// reactor-pool/cluster: one keyspace of durable sessions across processes and hosts, on NATS
// JetStream. Members run the module and own partitions; clients only call. This file is the subpath's whole surface.

export { ClusterClient } from './cluster-client.js';
export { ClusterSession } from './cluster-session.js';
export { ClusterMember } from './cluster-member.js';
export type { ClusterMemberEvents, PartitionAcquiredEvent, PartitionLostEvent, PartitionReleasedEvent } from './cluster-member.js';
export type { MemberMetrics, ServingCounts } from './member-metrics.js';
export type { ClusterClientOptions, ClusterDurabilityOptions, ClusterMemberOptions } from './cluster-options.js';
export type { ClusterStatus } from './cluster-status.js';
