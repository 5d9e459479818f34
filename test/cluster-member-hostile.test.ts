// A member answers batches it cannot trust (bytes that are no batch, a batch for another partition,
// keys of another partition, an operation the pool refuses) with a coded error for that batch or
// that operation alone, and goes on serving: other sessions keep their state, results stay exact.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClusterClient, ClusterMember } from '../dist/src/cluster/index.js';
import { decodeBatchReply, encodeBatchRequest, type BatchReply, type WireOp } from '../dist/src/cluster/batch-wire.js';
import { callSubject, partitionOf } from '../dist/src/cluster/cluster-names.js';
import { natsAvailable } from './helpers/nats-server.js';
import { memberEvents } from './helpers/member-events.js';
import { useNatsServer } from './helpers/nats-fixture.js';
import { asNumber } from './helpers/results.js';

const REACTOR = fileURLToPath(new URL('../reactor/reactor.wasm', import.meta.url));
const PARTITIONS = 2;
const CLUSTER = 'hostile';

/** A key of `partition` (the first of k0, k1, … that maps there). */
function keyOf(partition: number, skip = 0): string {
  let found = 0;
  for (let i = 0; ; i++) {
    if (partitionOf(`k${i}`, PARTITIONS) === partition && found++ === skip) return `k${i}`;
  }
}

describe.skipIf(!natsAvailable())('a member facing batches it cannot trust', () => {
  const nats = useNatsServer();

  it('refuses or fails them alone, and serves every other session exactly', async () => {
    const member = await ClusterMember.join({ nats: nats.server.url, cluster: CLUSTER, module: REACTOR, partitions: PARTITIONS, pool: { stderr: () => undefined } });
    await memberEvents(member, 'partitionAcquired', PARTITIONS);
    const client = await ClusterClient.connect({ nats: nats.server.url, cluster: CLUSTER });
    const mine = keyOf(0);
    expect(asNumber(await client.session(mine).call('inc', 1))).toBe(21);

    const send = async (partition: number, bytes: Uint8Array): Promise<BatchReply> =>
      decodeBatchReply((await nats.nc.request(callSubject(CLUSTER, partition), bytes, { timeout: 5000 })).data);
    const call = (key: string, id: string, name = 'inc'): WireOp => ({ op: 'call', key, id, name, args: [1], options: {} });

    // Bytes that are no batch.
    expect(await send(0, new TextEncoder().encode('{"not":"a batch"}'))).toMatchObject({ status: 'refused', error: { code: 'ERR_INVALID_ARGUMENT' } });
    // A batch for partition 1 sent on partition 0's subject.
    expect(await send(0, encodeBatchRequest({ partition: 1, ops: [call(keyOf(1), 'x.1')] }))).toMatchObject({ status: 'refused', error: { code: 'ERR_INVALID_ARGUMENT' } });
    // A key of partition 1 in a batch for partition 0: it would make a second copy of that session.
    const stray = await send(0, encodeBatchRequest({ partition: 0, ops: [call(keyOf(0, 1), 'x.2'), call(keyOf(1), 'x.3')] }));
    expect(stray).toMatchObject({ status: 'refused', error: { code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('belongs to partition 1') as string } });
    // An unknown export fails that operation alone; the next one of the batch is served.
    const other = keyOf(0, 2);
    const mixed = await send(0, encodeBatchRequest({ partition: 0, ops: [call(other, 'x.4', 'nope'), call(other, 'x.5')] }));
    expect(mixed).toMatchObject({ status: 'served', outcomes: [{ ok: false, error: { code: 'ERR_UNKNOWN_EXPORT' } }, { ok: true, value: 21 }] });

    // Nothing of the above touched the sessions: the refused batches ran nothing.
    expect(asNumber(await client.session(mine).call('inc', 1))).toBe(22);
    expect(asNumber(await client.session(keyOf(0, 1)).call('inc', 0))).toBe(20);
    expect(asNumber(await client.session(keyOf(1)).call('inc', 0))).toBe(20);
    expect(asNumber(await client.session(other).call('inc', 0))).toBe(21);
    await client.close();
    await member.leave();
  });
});
