import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReactorPool } from 'reactor-pool';

const module = import.meta.resolve('reactor-pool/reactor.wasm');
const dir = await mkdtemp(join(tmpdir(), 'sessions-'));

// A call resolves once its journal record is on disk.
const first = await ReactorPool.create({ module, workers: 1, stderr: 'ignore', durability: { dir } });
const cart = first.session('cart-42');
console.log(await cart.with({ idempotencyKey: 'req-1' }).call('inc', 3)); // 23
console.log(await cart.with({ idempotencyKey: 'req-2' }).call('inc', 4)); // 27
console.log(await cart.with({ idempotencyKey: 'req-2' }).call('inc', 4)); // 27: a retry, answered from the journal
await first.destroy(); // stop at once, as a crash would: everything acknowledged is on disk

// A new pool on the same directory (in this process or after a restart) brings the session back.
const second = await ReactorPool.create({ module, workers: 1, stderr: 'ignore', durability: { dir } });
second.on('sessionRecovered', ({ key, records }) => console.log(`${key} recovered from ${records} journal records`));
console.log(await second.durableSessions());                  // [ 'cart-42' ]
console.log(await second.session('cart-42').call('inc', 1));   // 28
await second.close();
await rm(dir, { recursive: true });
