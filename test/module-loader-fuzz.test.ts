// Fuzzes the whole module loader (read, parse, reactor checks, compile, worker probe) through ReactorPool.create
// with truncated and mutated real modules: only coded ReactorPoolErrors may come out, never raw errors or hangs.

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReactorPoolError, type ModuleSpec, type ReactorPool } from '../dist/src/index.js';
import { KITCHEN, REACTOR } from './helpers/fixtures.js';
import { sectionRanges } from './helpers/wasm-encoder.js';
import { createPool } from './helpers/pool.js';
import { depth } from './helpers/depth.js';

interface Seed { readonly file: string; readonly bytes: Uint8Array<ArrayBuffer>; readonly head: number }

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const seedOf = (file: string): Seed => {
  const bytes = new Uint8Array(readFileSync(file));
  // Everything before the code section: types, imports, memory, exports (where mutations change what the loader checks).
  const code = WebAssembly.validate(bytes) ? sectionRanges(bytes).find((r) => r.id === 10) : undefined;
  return { file, bytes, head: code?.start ?? bytes.length };
};
const small = readdirSync(fixtures).filter((f) => f.endsWith('.wasm') && f !== 'kitchen.wasm').sort().map((f) => seedOf(`${fixtures}${f}`));
const big = [seedOf(REACTOR), seedOf(KITCHEN)];
const seeds = [...small, ...big];

let created = 0;

// Expects what every refusal and failure must be: a ReactorPoolError with an ERR_ code.
function expectCoded(error: unknown, what: string): void {
  expect(error, what).toBeInstanceOf(ReactorPoolError);
  expect((error as ReactorPoolError).code, what).toMatch(/^ERR_[A-Z_]+$/);
}

// The export the first call tries: a state-keeping one if it is there, else any function but `spin`.
function firstCall(spec: ModuleSpec): [string, (number | bigint)[]] | undefined {
  const functions = spec.exports.filter((e) => e.kind === 'function' && !e.name.startsWith('_') && e.name !== 'spin');
  const target = ['inc', 'get', 'nothing'].map((n) => functions.find((e) => e.name === n)).find((e) => e !== undefined) ?? functions[0];
  if (target === undefined) return undefined;
  return [target.name, (target.signature?.params ?? []).map((t) => (t === 'i64' ? 0n : 1))];
}

// How the bytes are handed over: as they are, as a view into the middle of a larger buffer, or as an ArrayBuffer.
type Form = 'view' | 'offset' | 'arraybuffer';

function inForm(bytes: Uint8Array<ArrayBuffer>, form: Form): Uint8Array<ArrayBuffer> | ArrayBuffer {
  if (form === 'arraybuffer') return bytes.slice().buffer;
  if (form === 'view') return bytes;
  const padded = new Uint8Array(bytes.length + 24).fill(0xff);
  padded.set(bytes, 13);
  return padded.subarray(13, 13 + bytes.length);
}

// Creates a pool from `bytes`. A refusal must be coded; a pool must describe the module as V8 does and
// its first call must either work or fail with a coded error. Returns whether a pool was created.
async function load(bytes: Uint8Array<ArrayBuffer>, what: string, form: Form = 'view'): Promise<boolean> {
  let pool: ReactorPool;
  try {
    // callTimeout only turns a mutant that loops forever into ERR_CALL_TIMEOUT instead of a hung test.
    pool = await createPool({ module: inForm(bytes, form), workers: 1, callTimeout: 2_000 });
  } catch (error) {
    expectCoded(error, what);
    return false;
  }
  created++;
  try {
    expect(WebAssembly.validate(bytes), `${what}: a pool was created from bytes V8 refuses`).toBe(true);
    const v8 = WebAssembly.Module.exports(new WebAssembly.Module(bytes));
    expect(pool.spec.exports.map((e) => [e.name, e.kind]), what).toEqual(v8.map((e) => [e.name, e.kind]));
    const call = firstCall(pool.spec);
    if (call !== undefined) {
      try {
        await pool.session('first').call(call[0], ...call[1]);
      } catch (error) {
        expectCoded(error, `${what}: first call of ${call[0]}`);
      }
    }
  } finally {
    await pool.destroy();
  }
  return true;
}

type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'overwrite'; readonly at: number; readonly byte: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly op: 'delete'; readonly at: number; readonly length: number };

// Positions are taken modulo the length; `inHead` ones land before the code section (imports, memory, exports).
const position = fc.record({ at: fc.noBias(fc.nat({ max: 2 ** 24 })), inHead: fc.boolean() });
const byte = fc.oneof(fc.nat(255), fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x0b, 0x60));
const mutation = fc.tuple(position, fc.oneof(
  fc.record({ op: fc.constant('flip' as const), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('overwrite' as const), byte }),
  fc.record({ op: fc.constant('insert' as const), bytes: fc.array(byte, { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('delete' as const), length: fc.integer({ min: 1, max: 4 }) }),
)).map(([{ at, inHead }, m]) => ({ ...m, at, inHead }));

function mutate(seed: Seed, mutations: readonly (Mutation & { readonly inHead: boolean })[]): Uint8Array<ArrayBuffer> {
  const bytes = Array.from(seed.bytes);
  for (const m of mutations) {
    const at = m.at % ((m.inHead ? Math.min(seed.head, bytes.length) : bytes.length) || 1);
    if (m.op === 'flip' && at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << m.bit);
    if (m.op === 'overwrite') bytes.splice(at, 1, m.byte);
    if (m.op === 'insert') bytes.splice(at, 0, ...m.bytes);
    if (m.op === 'delete') bytes.splice(at, m.length);
  }
  return Uint8Array.from(bytes);
}

const name = (seed: Seed): string => seed.file.slice(seed.file.lastIndexOf('/') + 1);

describe('module loader, fuzzed through ReactorPool.create', () => {
  it('refuses with a coded error, or loads, every prefix of the small fixture modules', async () => {
    for (const seed of small) {
      for (let cut = 0; cut <= seed.bytes.length; cut++) await load(seed.bytes.subarray(0, cut), `${name(seed)}[0, ${cut})`);
    }
  }, 60_000);

  it('refuses with a coded error, or loads, sampled prefixes of reactor.wasm and kitchen.wasm (every section boundary included)', async () => {
    for (const seed of big) {
      for (const r of sectionRanges(seed.bytes)) {
        for (const cut of [r.start, r.start + 1, r.contentStart, r.end - 1, r.end]) await load(seed.bytes.subarray(0, cut), `${name(seed)}[0, ${cut})`);
      }
    }
    const cuts = fc.constantFrom(...big).chain((seed) => fc.tuple(fc.constant(seed), fc.nat(seed.bytes.length)));
    await fc.assert(fc.asyncProperty(cuts, async ([seed, cut]) => {
      await load(seed.bytes.subarray(0, cut), `${name(seed)}[0, ${cut})`);
    }), { numRuns: depth(120) });
  }, 60_000);

  it('refuses with a coded error, or loads and runs, mutants of every fixture module, handed over in every form', async () => {
    const forms = fc.constantFrom<Form>('view', 'offset', 'arraybuffer');
    await fc.assert(fc.asyncProperty(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 3 }), forms, async (seed, mutations, form) => {
      await load(mutate(seed, mutations), `${name(seed)} (${form}) mutated by ${JSON.stringify(mutations)}`, form);
    }), { numRuns: depth(300) });
  }, 60_000);

  // One changed byte in the code or data of a real module often still validates (a changed immediate,
  // opcode or data byte): these reach the worker, instantiate, run `_initialize` and the first call.
  it('loads and runs, or refuses with a coded error, one-byte mutants of reactor.wasm and kitchen.wasm', async () => {
    const before = created;
    const oneByte = fc.constantFrom(...big).chain((seed) => fc.tuple(
      fc.constant(seed), fc.integer({ min: seed.head, max: seed.bytes.length - 1 }), fc.integer({ min: 1, max: 255 }),
    ));
    await fc.assert(fc.asyncProperty(oneByte, async ([seed, at, xor]) => {
      const bytes = seed.bytes.slice();
      bytes[at] = (bytes[at] ?? 0) ^ xor;
      await load(bytes, `${name(seed)} with byte ${at} xor ${xor}`, 'offset');
    }), { numRuns: depth(200) });
    expect(created - before, 'some one-byte mutants must load').toBeGreaterThan(0);
  }, 60_000);
});
