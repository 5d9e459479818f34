// A member and a client through a NATS restart: while the server is down a call rejects
// ERR_CLUSTER_UNAVAILABLE (retryable) at its callTimeout and nothing is acknowledged; the member gives
// every partition up once it cannot heartbeat for its lease; with the server back on the same port and
// storage, both reconnect by themselves, the member takes its partitions again from the journal, a
// call retried with its idempotency key is applied exactly once, and every session reads back its
// acknowledged calls.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClusterClient, ClusterMember } from '../dist/src/cluster/index.js';
import { memberEvents } from './helpers/member-events.js';
import { natsAvailable, startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { asNumber } from './helpers/results.js';
import { useTempDirectory } from './helpers/temp-directory.js';

const REACTOR = fileURLToPath(new URL('../reactor/reactor.wasm', import.meta.url));
const PARTITIONS = 4;
const CLUSTER = 'restart';
/** How many times a caller tries a call that rejected as retryable before the test gives up. */
const ATTEMPTS = 30;

/** What a call settled with: its value, or its error's code and whether it is retryable. */
async function settled(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    const { code, retryable } = error as { code?: string; retryable?: boolean };
    return { code, retryable };
  }
}

describe.skipIf(!natsAvailable())('a cluster through a NATS restart', () => {
  const storage = useTempDirectory('nats-restart');

  it('rejects calls while NATS is down, then serves every session from its journal with each retried call applied once', async () => {
    let nats: NatsServer = await startNatsServer({ storeDir: storage() });
    const member = await ClusterMember.join({
      nats: nats.url, cluster: CLUSTER, module: REACTOR, partitions: PARTITIONS, leaseTtl: 500, pool: { stderr: () => undefined },
    });
    const client = await ClusterClient.connect({ nats: nats.url, cluster: CLUSTER, callTimeout: 1500 });
    try {
      await memberEvents(member, 'partitionAcquired', PARTITIONS);
      const keys = Array.from({ length: 24 }, (_, i) => `r${i}`);
      expect(await Promise.all(keys.map((key) => client.session(key).call('inc', 5).then(asNumber)))).toStrictEqual(keys.map(() => 25));

      const lost = memberEvents(member, 'partitionLost', PARTITIONS);
      await nats.stop();
      // Each call carries its caller's idempotency key, as a caller that retries on a retryable error does.
      const retried = (key: string): Promise<unknown> => client.session(key).with({ idempotencyKey: `outage-${key}` }).call('inc', 1000);
      const outage = await Promise.all(keys.map((key) => settled(retried(key))));
      expect(outage).toStrictEqual(keys.map(() => ({ code: 'ERR_CLUSTER_UNAVAILABLE', retryable: true })));
      expect((await lost).map(({ partition, code }) => ({ partition, code })).sort((a, b) => a.partition - b.partition))
        .toStrictEqual(Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, code: undefined })));
      expect(member.owned()).toStrictEqual([]);

      const back = memberEvents(member, 'partitionAcquired', PARTITIONS);
      nats = await startNatsServer({ port: nats.port, storeDir: storage() });
      await back;
      expect(member.owned()).toStrictEqual([0, 1, 2, 3]);
      // The caller retries its rejected call with the same key until it is answered: applied once,
      // whether or not a send made during the outage reached the owner meanwhile.
      const answers = await Promise.all(keys.map(async (key) => {
        for (let attempt = 1; ; attempt++) {
          const answer = await settled(retried(key));
          if (typeof answer === 'number' || attempt === ATTEMPTS) return answer;
        }
      }));
      expect(answers).toStrictEqual(keys.map(() => 1025));
      expect(await Promise.all(keys.map((key) => client.session(key).call('inc', 0).then(asNumber)))).toStrictEqual(keys.map(() => 1025));
      // The member's own sessions see the same state.
      expect(asNumber(await member.session('r0').call('inc', 1))).toBe(1026);
    } finally {
      await client.close();
      await member.destroy();
      await nats.stop();
    }
  });
});
