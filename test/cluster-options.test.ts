// A cluster client's and member's options are checked before anything connects: every bad value is
// refused with ERR_INVALID_OPTION naming the option and showing what was given; the caller's object
// is left as it was.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ClusterClient, ClusterMember } from '../dist/src/cluster/index.js';

const REACTOR = fileURLToPath(new URL('../reactor/reactor.wasm', import.meta.url));
/** Nobody listens here: an option that passed the checks would fail with ERR_CLUSTER_UNAVAILABLE instead. */
const NOWHERE = 'nats://127.0.0.1:1';

const clientCases: [string, Record<string, unknown>, RegExp][] = [
  ['no nats', { cluster: 'c' }, /`nats`.*got `undefined`/],
  ['an empty server list', { nats: [], cluster: 'c' }, /`nats`.*got `\[\]`/],
  ['a server that is not a string', { nats: [NOWHERE, 4222], cluster: 'c' }, /`nats`/],
  ['a cluster name with a dot', { nats: NOWHERE, cluster: 'a.b' }, /cluster.*"a\.b"/],
  ['a cluster name of 65 letters', { nats: NOWHERE, cluster: 'x'.repeat(65) }, /cluster/],
  ['callTimeout 0', { nats: NOWHERE, cluster: 'c', callTimeout: 0 }, /`callTimeout`.*got `0`/],
  ['requestTimeout 1.5', { nats: NOWHERE, cluster: 'c', requestTimeout: 1.5 }, /`requestTimeout`.*got `1\.5`/],
  ['an unknown option', { nats: NOWHERE, cluster: 'c', timeout: 5 }, /Unknown option `timeout`/],
];

const memberCases: [string, Record<string, unknown>, RegExp][] = [
  ['no module', { nats: NOWHERE, cluster: 'c' }, /`module`/],
  ['partitions 0', { partitions: 0 }, /`partitions`.*got `0`/],
  ['partitions 4097', { partitions: 4097 }, /`partitions`.*got `4097`/],
  ['leaseTtl 99', { leaseTtl: 99 }, /`leaseTtl`.*got `99`/],
  ['maxMoves 0', { maxMoves: 0 }, /`maxMoves`.*got `0`/],
  ['replicas 6', { replicas: 6 }, /`replicas`.*got `6`/],
  ['replicas "3"', { replicas: '3' }, /`replicas`.*got `"3"`/],
  ['a member id with a space', { memberId: 'a b' }, /"a b"/],
  ['pool.durability', { pool: { durability: {} } }, /`pool\.durability`/],
  ['pool.module', { pool: { module: REACTOR } }, /`pool\.module`/],
  ['durability.dir', { durability: { dir: '/tmp' } }, /`durability\.dir`/],
  ['an unknown option', { partition: 4 }, /Unknown option `partition`/],
];

describe('cluster options', () => {
  it.each(clientCases)('a client refuses %s with ERR_INVALID_OPTION', async (_name, options, message) => {
    const given = structuredClone(options);
    const error = await ClusterClient.connect(options as never).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect((error as Error).message).toMatch(message);
    expect(options).toStrictEqual(given);
  });

  it.each(memberCases)('a member refuses %s with ERR_INVALID_OPTION', async (_name, extra, message) => {
    const options = 'nats' in extra ? extra : { nats: NOWHERE, cluster: 'c', module: REACTOR, ...extra };
    const given = structuredClone(options);
    const error = await ClusterMember.join(options as never).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' });
    expect((error as Error).message).toMatch(message);
    expect(options).toStrictEqual(given);
  });

  it('valid options pass the checks: the unreachable NATS is what fails, with ERR_CLUSTER_UNAVAILABLE', async () => {
    await expect(ClusterClient.connect({ nats: NOWHERE, cluster: 'c', callTimeout: 1, requestTimeout: 1 })).rejects.toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE' });
    await expect(ClusterMember.join({ nats: [NOWHERE], cluster: 'c', module: REACTOR, partitions: 4096, leaseTtl: 100, maxMoves: 1, replicas: 5, memberId: 'm-1' }))
      .rejects.toMatchObject({ code: 'ERR_CLUSTER_UNAVAILABLE' });
  });
});
