// A stand-in for a partition's owner in the client routing tests: a plain NATS subscriber on the
// cluster's call subjects that records every batch and answers as the test says (by default it serves
// per-key counters: `inc` adds one and returns the count). Also writes the cluster's config record.

import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { Kvm } from '@nats-io/kv';
import { decodeBatchRequest, encodeBatchReply, type BatchReply, type BatchRequest, type WireOutcome } from '../../dist/src/cluster/batch-wire.js';
import { CONFIG_KEY, kvBucket } from '../../dist/src/cluster/cluster-names.js';

/** How the fake answers the `index`-th batch (0-based); a promise holds the answer until it settles. */
export type Answer = (request: BatchRequest, index: number) => BatchReply | Promise<BatchReply>;

export class FakeOwner {
  readonly requests: BatchRequest[] = [];
  /** Batches it could not decode (a test expecting none checks this is empty). */
  readonly refusals: unknown[] = [];
  /** Per-key counters the default answer keeps. */
  readonly counters = new Map<string, number>();
  answer: Answer = (request) => this.serve(request);
  readonly #subscription: Subscription;
  readonly #waiters: { count: number; resolve: () => void }[] = [];
  readonly #served = new Map<string, WireOutcome>();

  constructor(nc: NatsConnection, cluster: string) {
    this.#subscription = nc.subscribe(`rp.${cluster}.call.*`, {
      callback: (error, message) => {
        if (error !== null) return;
        let request: BatchRequest;
        try {
          request = decodeBatchRequest(message.data);
        } catch (refusal) {
          this.refusals.push(refusal);
          return;
        }
        const index = this.requests.push(request) - 1;
        for (const waiter of [...this.#waiters]) {
          if (this.requests.length >= waiter.count) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
        void Promise.resolve(this.answer(request, index)).then((reply) => message.respond(encodeBatchReply(reply)));
      },
    });
  }

  /** Resolves once `count` batches have arrived. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /**
   * The default answer: every op served (`inc` counts per key; other ops return undefined). A call
   * whose idempotency key was served before gets the same outcome again, as from a real owner.
   */
  serve(request: BatchRequest): BatchReply {
    const outcomes: WireOutcome[] = request.ops.map((op) => {
      if (op.op === 'call' && op.name === 'inc') {
        const seen = this.#served.get(op.id);
        if (seen !== undefined) return seen;
        const count = (this.counters.get(op.key) ?? 0) + 1;
        this.counters.set(op.key, count);
        const outcome: WireOutcome = { ok: true, value: count };
        this.#served.set(op.id, outcome);
        return outcome;
      }
      if (op.op === 'callMany') return { ok: true, value: op.list };
      return { ok: true, value: undefined };
    });
    return { status: 'served', outcomes };
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }
}

/** Writes the cluster's config record (as its first member would), creating its KV bucket. */
export async function writeClusterConfig(nc: NatsConnection, cluster: string, partitions: number): Promise<void> {
  const kv = await new Kvm(nc).create(kvBucket(cluster), { history: 1 });
  await kv.put(CONFIG_KEY, JSON.stringify({ version: 1, partitions, identity: 'f'.repeat(64), createdAt: 0 }));
}

/** A promise and its settling functions, for holding a fake's answer until the test releases it. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
