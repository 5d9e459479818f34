// Per-session order and at-most-once across any mix of owner answers (property-based, seeded): a fake
// owner answers each batch at random — `moved` (nothing applied), served with a random cut in each
// session's operations (those before it applied, the rest `{ retry }`), or applied with the answer
// lost (the client times the request out and sends it again; the owner's dedup answers). Every
// session's n-th call must resolve with n: applied once each, in the order they were made.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ClusterClient } from '../dist/src/cluster/cluster-client.js';
import type { BatchReply, WireOutcome } from '../dist/src/cluster/batch-wire.js';
import { seeded } from '../dist/src/seeded-random.js';
import { depth } from './helpers/depth.js';
import { natsAvailable } from './helpers/nats-server.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { FakeOwner, writeClusterConfig } from './helpers/fake-owner.js';

const SEED = 0x5eed_0c1e;

describe.skipIf(!natsAvailable())('cluster client order model', () => {
  const nats = useNatsServer();

  it('applies every call once, in order per session, whatever the owner answers', async () => {
    let run = 0;
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
      async (seed, sessions, waves) => {
        const cluster = `model${run++}`;
        await writeClusterConfig(nats.nc, cluster, 2);
        const owner = new FakeOwner(nats.nc, cluster);
        const random = seeded(seed);
        owner.answer = (request): BatchReply | Promise<BatchReply> => {
          const roll = random();
          if (roll < 0.2) return { status: 'moved', reason: 'model' };
          if (roll < 0.3) {
            owner.serve(request);
            // The answer is lost: the client times out and sends the batch again.
            return new Promise<BatchReply>(() => undefined);
          }
          const outcomes: WireOutcome[] = [];
          const cutOf = new Map<string, number>();
          for (const op of request.ops) {
            let cut = cutOf.get(op.key);
            if (cut === undefined) cutOf.set(op.key, cut = random() < 0.3 ? Math.floor(random() * 3) : Number.POSITIVE_INFINITY);
            if (cut <= 0) {
              outcomes.push({ retry: 'model' });
              continue;
            }
            cutOf.set(op.key, cut - 1);
            const served = owner.serve({ partition: request.partition, ops: [op] });
            outcomes.push(served.status === 'served' ? served.outcomes[0] ?? { retry: 'none' } : { retry: 'none' });
          }
          return { status: 'served', outcomes };
        };
        const client = await ClusterClient.connect({ nats: nats.server.url, cluster, requestTimeout: 25 });
        const results = new Map<string, Promise<unknown>[]>();
        for (const count of waves) {
          for (let index = 0; index < sessions; index++) {
            const key = `s${index}`;
            const list = results.get(key) ?? [];
            results.set(key, list);
            for (let call = 0; call < count; call++) list.push(client.session(key).call('inc'));
          }
          // The next wave is made while a batch is out (as the owner receives one), unless all is done.
          await Promise.race([owner.received(owner.requests.length + 1), Promise.allSettled([...results.values()].flat())]);
        }
        for (const [key, list] of results) {
          expect(await Promise.all(list), key).toEqual(list.map((_, index) => index + 1));
          expect(owner.counters.get(key)).toBe(list.length);
        }
        await client.close();
        owner.stop();
      },
    ), { seed: SEED, numRuns: depth(25) });
  }, 120_000);
});
