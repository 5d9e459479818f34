// How code of this package (the Prometheus adapter) reaches the pools a member's partitions run in,
// without making them part of the member's public surface. A module of its own, so that reaching
// for the symbol does not load the NATS client.

/** A member's `[PARTITION_POOLS]()` gives the pool of each partition it serves now. */
export const PARTITION_POOLS: unique symbol = Symbol('reactor-pool partition pools');
