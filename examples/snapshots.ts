import { ReactorPool } from 'reactor-pool';

await using pool = await ReactorPool.create({
  module: import.meta.resolve('reactor-pool/reactor.wasm'),
  workers: 2,
  stderr: 'ignore', // what `_initialize` prints: `s = 20`
});

const a = pool.session('a');
console.log(await a.call('inc', 1));              // 21
const bytes = await a.snapshot();                 // after the calls already made
console.log(`a snapshot of ${bytes.length} bytes`);
console.log(await a.call('inc', 21));             // 42

const b = pool.session('b');
await b.restore(bytes);                           // b continues from 21, on whatever worker it is placed
console.log(await b.call('inc', 1));              // 22
await a.restore(bytes);                           // a goes back to 21
console.log(await a.call('inc', 0));              // 21
// `await using`: the pool closes (drains, then stops) when this scope ends.
