// The host functions of examples/host-functions.ts: prices from the host's catalogue, and a receipt
// written into the plug-in's memory. They run in the pool's worker threads.
import { defineHostFunctions, hostFunction } from 'reactor-pool';

const prices = new Map([['apple', 40], ['pear', 55]]);

export default defineHostFunctions({
  env: {
    price: hostFunction({
      params: ['i32', 'i32'],
      results: ['i32'],
      call(ctx, ptr, len) {
        const item = ctx.readString(ptr, len);
        const price = prices.get(item);
        if (price === undefined) throw new Error(`no price for ${item}`);
        return price;
      },
    }),
    receipt: hostFunction({
      params: ['i32'],
      results: ['i64'],
      call(ctx, cents) {
        const text = new TextEncoder().encode(`${ctx.sessionKey} owes $${(cents / 100).toFixed(2)}`);
        return (BigInt(ctx.alloc(text)) << 32n) | BigInt(text.byteLength);
      },
    }),
  },
});
