// A value that cannot travel to a worker is refused with ERR_INVALID_ARGUMENT when the call is made,
// before it joins a batch: the calls other sessions make in the same tick run with exact results,
// no worker fails, and the session whose first call was refused carries on.

import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type Session } from '../dist/src/index.js';
import { REACTOR, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

function detached<T extends ArrayBufferView>(view: T): T {
  structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });
  return view;
}

function throwingGetterAt<T>(items: T[], index: number): T[] {
  Object.defineProperty(items, index, { get: () => { throw new Error('getter says no'); } });
  return items;
}

const fake = (): Uint8Array => Object.create(Uint8Array.prototype) as Uint8Array;
const throwingProxy = <T extends object>(target: T): T => new Proxy(target, {
  get: () => { throw new Error('proxy says no'); },
  getPrototypeOf: () => { throw new Error('proxy says no'); },
});

/** Each bad call, made on a fresh session as its first call: `total(bytes)` sums them, `weigh(bytes, i32, bytes)`. */
const cases: [string, (s: Session) => Promise<unknown>, RegExp][] = [
  ['a detached Uint8Array argument', (s) => s.call('total', detached(Uint8Array.of(1, 2))), /detached/],
  ['a detached typed array list', (s) => s.callMany('total', [detached(Uint8Array.of(1))]), /item 0: .*detached/],
  ['a function in a tuple', (s) => s.callMany('weigh', [['abc', 10, 'x'], ['abc', () => 10, 'x']] as never), /item 1: .*\[function/],
  ['a well-behaved Proxy list', (s) => s.callMany('total', new Proxy(['a', 'b'], {})), /Proxy/],
  ['a Proxy tuple', (s) => s.callMany('total', [new Proxy(['a'], {})]), /item 0: .*Proxy/],
  ['a throwing Proxy list', (s) => s.callMany('total', throwingProxy(['a'])), /Proxy/],
  ['a throwing Proxy argument', (s) => s.call('total', throwingProxy(Uint8Array.of(1))), /Proxy/],
  ['a Proxy around a Uint8Array in a list', (s) => s.callMany('total', [new Proxy(Uint8Array.of(1), {})]), /Proxy/],
  ['a getter that throws in the list', (s) => s.callMany('total', throwingGetterAt(['a', 'b'], 1)), /item 1: .*getter says no/],
  ['a getter that throws in a tuple', (s) => s.callMany('total', [throwingGetterAt(['a'], 0)]), /item 0: .*getter says no/],
  ['an object with a throwing prototype chain', (s) => s.call('total', Object.create(throwingProxy({})) as never), /poses as a Uint8Array/],
  ['a fake Uint8Array argument', (s) => s.call('total', fake()), /poses as a Uint8Array/],
  ['a fake Uint8Array in a list', (s) => s.callMany('total', [fake()]), /item 0: .*poses as a Uint8Array/],
  ['a fake Uint8Array as the list', (s) => s.callMany('total', fake() as never), /posing as a Uint8Array/],
];

describe('values that cannot travel are refused when the call is made', () => {
  for (const [what, call, message] of cases) {
    it(`${what}: ERR_INVALID_ARGUMENT at once; the same tick's other calls are exact; nothing is lost`, async () => {
      const pool = await createPool({ module: fixture('buffers.wasm'), workers: 1 });
      const failures: unknown[] = [];
      pool.on('workerFailed', (event) => failures.push(event));
      pool.on('sessionLost', (event) => failures.push(event));
      const before = pool.session('before').call('total', Uint8Array.of(1, 2));
      const victim = pool.session('victim');
      const refused = call(victim);
      const after = pool.session('after').callMany('total', ['ab', Uint8Array.of(7)]);
      // Refused before anything was sent: it loses the race against a promise settled now.
      const first = await Promise.race([refused, Promise.resolve('pending')]).catch((error: unknown) => error);
      expect(first).toBeInstanceOf(InvalidArgumentError);
      const error = await rejection(refused);
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toMatch(message);
      expect(await before).toBe(3);
      expect(await after).toEqual([97 + 98, 7]);
      expect(victim.lost).toBe(false);
      expect(await victim.call('total', 'a')).toBe(97);
      expect(await victim.call('live')).toBe(0);
      expect(failures).toEqual([]);
    });
  }

  it('a list with a function-valued property runs with its elements: only the elements are taken', async () => {
    const pool = await createPool({ module: REACTOR, workers: 1 });
    const list = Object.assign([1, 2], { describe: () => 'not an argument' });
    expect(await pool.session('props').callMany('inc', list)).toEqual([21, 23]);
  });
});
