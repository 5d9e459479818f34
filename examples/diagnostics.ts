// Watches a pool through node:diagnostics_channel: each call as it settles, and each session as it
// is created, hibernates (here: moved off a recycled worker) and closes. It prints what happened,
// not when: timings vary from run to run.
import diagnostics_channel from 'node:diagnostics_channel';
import {
  CHANNELS, ReactorPool, type CallMessage, type SessionClosedMessage, type SessionCreatedMessage, type SessionHibernatedMessage,
} from 'reactor-pool';

diagnostics_channel.tracingChannel<unknown, CallMessage>(CHANNELS.call).subscribe({
  start() {}, end() {}, asyncStart() {}, error() {},
  // (call.settledAt ?? 0) - call.queuedAt is how long it took, in milliseconds.
  asyncEnd: (call) => console.log(call.kind, call.key, call.exportName, call.count, call.outcome),
});
// Plain channels publish `unknown`: each message's type is exported by its channel's name.
diagnostics_channel.subscribe(CHANNELS.sessionCreated, (message) => {
  const { key, workerId } = message as SessionCreatedMessage;
  console.log('created', key, 'on worker', workerId);
});
diagnostics_channel.subscribe(CHANNELS.sessionHibernated, (message) => {
  console.log('hibernated', (message as SessionHibernatedMessage).key);
});
diagnostics_channel.subscribe(CHANNELS.sessionClosed, (message) => {
  console.log('closed', (message as SessionClosedMessage).key);
});

const pool = await ReactorPool.create({ module: new URL(import.meta.resolve('reactor-pool/reactor.wasm')), workers: 1, stderr: 'ignore' });
const alice = pool.session('alice');
await alice.call('inc', 1);
await alice.callMany('inc', [1, 2, 3]);
await pool.recycleWorker(alice.workerId); // alice moves: she hibernates, and wakes at her next call
await alice.call('inc', 1);
await alice.close();
await pool.close();
