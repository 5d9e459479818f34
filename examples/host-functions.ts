// A plug-in calling functions of its host: `hostFunctions` names the module declaring them.
import { ReactorPool, ReactorPoolError } from 'reactor-pool';

const pool = await ReactorPool.create({
  module: new URL('./host-functions.wasm', import.meta.url),
  hostFunctions: new URL('./host/host-functions.js', import.meta.url),
  workers: 2,
  results: { receipt: 'string' },
});
const alice = pool.session('alice');
console.log(await alice.call('add', 'apple')); // 40
console.log(await alice.call('add', 'pear')); // 95
console.log(await alice.call('receipt')); // alice owes $0.95
try {
  await alice.call('add', 'durian');
} catch (error) {
  if (error instanceof ReactorPoolError) console.log(error.code, error.message);
}
console.log(await pool.session('bob').call('receipt')); // bob owes $0.00
await pool.close();
