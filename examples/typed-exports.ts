// A pool typed by its module's exports: types/typed-exports.ts is what `reactor-pool types` wrote for
// typed-exports.wasm, and every call below is checked against it when this file compiles.
import { ReactorPool, ReactorPoolError } from 'reactor-pool';
import type { ModExports } from './types/typed-exports.js';

const pool = await ReactorPool.create<ModExports>({ module: new URL('./typed-exports.wasm', import.meta.url), workers: 1 });
const s = pool.session('alice');
const n: number = await s.call('inc', 1);
const big: bigint = await s.call('add64', 2n ** 40n);
const [a, b]: [number, bigint] = await s.call('pair', 3);
const none: undefined = await s.call('nothing');
const hi: string = await s.with({ result: 'string' }).call('greet', 'Ada'); // a string fills (i32, i32)
const all: number[] = await s.callMany('inc', [1, [2]]);
const typed: BigInt64Array = await s.callMany('add64', new BigInt64Array([1n]));
console.log(n, big, [a, b], none); // 1 1099511627777n [ 3, 9n ] undefined
console.log(hi, all, typed); // hello, Ada! [ 2, 4 ] BigInt64Array(1) [ 5n ]

// Each of these is a compile error (`@ts-expect-error` fails the build if it is not one);
// compiled anyway, each is a coded rejection.
const mistakes = [
  // @ts-expect-error: no such export
  () => s.call('dec', 1),
  // @ts-expect-error: an i64 takes a bigint
  () => s.call('add64', 1),
  // @ts-expect-error: too few arguments
  () => s.call('inc'),
  // @ts-expect-error: a string result is read from an export returning one i64
  () => s.with({ result: 'string' }).call('inc', 1),
];
for (const mistake of mistakes) {
  await mistake().catch((error: unknown) => {
    if (error instanceof ReactorPoolError) console.log(error.code, error.message);
  });
}
await pool.close();
