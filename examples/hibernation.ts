import { ReactorPool, type SnapshotStore } from 'reactor-pool';

// Where hibernated sessions go: a Map here, a database or object storage in practice.
const saved = new Map<string, Uint8Array>();
const asked: string[] = [];
const store: SnapshotStore = {
  get(key) {
    asked.push(`get ${key}`);
    return Promise.resolve(saved.get(key));
  },
  set(key, snapshot) {
    asked.push(`set ${key}`);
    saved.set(key, snapshot);
    return Promise.resolve();
  },
  delete(key) {
    saved.delete(key);
    return Promise.resolve();
  },
};

await using pool = await ReactorPool.create({
  module: import.meta.resolve('reactor-pool/reactor.wasm'),
  workers: 1,
  stderr: 'ignore',
  maxActiveSessions: 1, // one session awake at a time: another waking up hibernates the idle one
  store,
});
/** The key of the next session to hibernate. */
const nextHibernation = (): Promise<string> => new Promise((resolve) => pool.once('sessionHibernated', ({ key }) => resolve(key)));

const alice = pool.session('alice');
const bob = pool.session('bob');
console.log('alice:', await alice.call('inc', 1)); // 21

let hibernating = nextHibernation();
console.log('bob:', await bob.call('inc', 2));     // 22
console.log(await hibernating, 'hibernated');       // alice, to make room
console.log('alice.hibernated:', alice.hibernated); // true: her state is in the store

hibernating = nextHibernation();
console.log('alice:', await alice.call('inc', 1)); // 22: restored, without running `_initialize` again
console.log(await hibernating, 'hibernated');       // bob
console.log('store:', asked.join(', '));           // set alice, get alice, set bob
const { activeSessions, hibernatedSessions } = pool.stats();
console.log({ activeSessions, hibernatedSessions });
