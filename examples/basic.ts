import { ReactorPool, ReactorPoolError, type ReferenceReactor } from 'reactor-pool';

// The reference reactor the package ships: `_initialize` sets a counter to 20 (and prints
// `s = 20` to stderr), `inc(n)` adds n to it and returns it. `module` takes a path, a file: URL
// (a URL or a string such as this one), bytes (Uint8Array / ArrayBuffer) or a WebAssembly.Module.
const reactor = import.meta.resolve('reactor-pool/reactor.wasm');

// <ReferenceReactor>: the bundled reactor's exports, so calls are checked (see Typed exports).
const pool = await ReactorPool.create<ReferenceReactor>({ module: reactor, workers: 2, isolation: 'session' });
const alice = pool.session('alice');
console.log(await alice.call('inc', 1));               // 21
console.log(await alice.call('inc', 21));              // 42
console.log(await pool.session('bob').call('inc', 1)); // 21: its own instance
console.log(await alice.callMany('inc', [1, 2, 3]));   // [ 43, 45, 48 ]: in order, in one trip

try {
  await alice.call('inc', 1.5);                         // inc takes an i32
} catch (error) {
  if (error instanceof ReactorPoolError) console.log(error.code); // ERR_INVALID_ARGUMENT
}

await alice.reset();                                    // a fresh instance (how a lost session comes back)
console.log(await alice.call('inc', 1));               // 21
await pool.close();                                     // drain, then stop
