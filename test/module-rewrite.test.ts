// The module rewrite: every mutable global the module does not export is exported under a reserved
// name, every other byte is kept, nothing accepted before is refused, and the stack pointer is found
// by name, by the producers section, or by LLVM's frame prologue (and never in a module without one).

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidModuleError } from '../src/errors.js';
import { exportMutableGlobals } from '../src/module-rewrite.js';
import { parseModuleSpec } from '../src/module-spec.js';
import { HEADER, encodeModule, isValidWasm, name, section, sectionRanges, uleb, vec, type ModuleDef } from './helpers/wasm-encoder.js';
import { REACTOR, fixture } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';
import { MODULES } from './conformance/modules.js';
import { depth } from './helpers/depth.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const real = [REACTOR, ...readdirSync(fixtures).filter((f) => f.endsWith('.wasm')).map((f) => `${fixtures}${f}`), ...MODULES.map((m) => m.path)]
  .map((file) => ({ file, bytes: new Uint8Array(readFileSync(file)) }))
  .filter(({ bytes }) => isValidWasm(bytes));

const exportsOf = (bytes: Uint8Array): { name: string; kind: string }[] =>
  WebAssembly.Module.exports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).map(({ name: n, kind }) => ({ name: n, kind }));
const sectionBytes = (bytes: Uint8Array): number[][] =>
  sectionRanges(bytes).filter((r) => r.id !== 7).map((r) => Array.from(bytes.subarray(r.start, r.end)));
const rewrite = (def: ModuleDef | Uint8Array): ReturnType<typeof exportMutableGlobals> =>
  exportMutableGlobals((def instanceof Uint8Array ? def : encodeModule(def)) as Uint8Array<ArrayBuffer>);
const memory: ModuleDef = { memories: [{ initial: 1 }], exports: [{ name: 'memory', kind: 'memory', index: 0 }] };
/** A `producers` custom section listing one `processed-by` tool. */
const producers = (tool: string): { name: string; bytes: number[] } =>
  ({ name: 'producers', bytes: vec([['processed-by', [[tool, '1.0']]]] as const, ([field, values]) => [...name(field), ...vec(values, ([t, v]) => [...name(t), ...name(v)])]) });
/** A `name` custom section naming globals (subsection 7). */
const globalNames = (names: readonly string[]): { name: string; bytes: number[] } => {
  const content = vec(names.map((n, i) => [i, n] as const), ([i, n]) => [...uleb(i), ...name(n)]);
  return { name: 'name', bytes: [7, ...uleb(content.length), ...content] };
};
/** A function body opening a 16-byte frame on global 0, as LLVM does: global.get 0; i32.const 16; i32.sub; global.set 0. */
const PROLOGUE = [0x23, 0x00, 0x41, 0x10, 0x6b, 0x24, 0x00, 0x0b];

describe('the module rewrite', () => {
  it('keeps every export and section of every fixture and conformance module, and adds exactly the mutable globals (and changing tables)', () => {
    expect(real.length).toBeGreaterThan(10);
    for (const { file, bytes } of real) {
      const { bytes: out, spec } = rewrite(bytes);
      const before = exportsOf(bytes);
      const added = exportsOf(out).slice(before.length);
      expect(exportsOf(out).slice(0, before.length), file).toEqual(before);
      const unexported = (spec.mutableGlobals ?? []).filter((g) => !before.some((e) => e.name === g.exportName));
      const reserved = (list: readonly { index: number; exportName: string }[] | undefined, prefix: string, kind: string): { name: string; kind: string }[] =>
        (list ?? []).filter((t) => !before.some((e) => e.name === t.exportName)).map((t) => ({ name: `${prefix}${t.index}`, kind }));
      expect(added, file).toEqual([
        ...unexported.map((g) => ({ name: `__rp_global_${g.index}`, kind: 'global' })),
        ...reserved(spec.mutableTables, '__rp_table_', 'table'),
        ...reserved(spec.tableFunctions, '__rp_func_', 'function'),
      ]);
      expect(sectionBytes(out), file).toEqual(sectionBytes(bytes));
      expect(parseModuleSpec(out).exports.slice(0, before.length), file).toEqual(parseModuleSpec(bytes).exports);
      // The spec describes the user's module: no reserved names among its exports.
      expect(spec.exports, file).toEqual(parseModuleSpec(bytes).exports);
    }
  });

  it('is idempotent: a rewritten module, or one exporting its globals already, gets nothing twice', () => {
    for (const { file, bytes } of real) {
      const once = rewrite(bytes).bytes;
      expect(rewrite(once).bytes, file).toBe(once);
    }
    const own = rewrite({ ...memory, globals: [{ type: 'i32', mutable: true }], exports: [...(memory.exports ?? []), { name: 'g', kind: 'global', index: 0 }] });
    expect(own.spec.mutableGlobals).toEqual([{ index: 0, type: 'i32', imported: false, exportName: 'g' }]);
    expect(exportsOf(own.bytes).map((e) => e.name)).toEqual(['memory', 'g']);
  });

  it('never collides with an existing export, and makes an export section where there is none', () => {
    const taken = rewrite({
      types: [{ params: [], results: [] }], functions: [{ type: 0 }], memories: [{ initial: 1 }],
      globals: [{ type: 'i64', mutable: true }],
      exports: [{ name: 'memory', kind: 'memory', index: 0 }, { name: '__rp_global_0', kind: 'function', index: 0 }],
    });
    expect(exportsOf(taken.bytes)).toEqual([
      { name: 'memory', kind: 'memory' }, { name: '__rp_global_0', kind: 'function' }, { name: '__rp_global_0_', kind: 'global' },
    ]);
    const none = rewrite({ types: [{ params: [], results: [] }], functions: [{ type: 0 }], globals: [{ type: 'f64', mutable: true }, { type: 'i32' }], start: 0 });
    expect(exportsOf(none.bytes)).toEqual([{ name: '__rp_global_0', kind: 'global' }]);
    expect(none.spec.mutableGlobals).toEqual([{ index: 0, type: 'f64', imported: false, exportName: '__rp_global_0' }]);
  });

  it('exports imported mutable globals and reference-typed ones, and skips v128 globals (noted without an export name)', () => {
    const v128 = [0x7b, 0x01, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b];
    const funcref = [0x70, 0x01, 0xd0, 0x70, 0x0b];
    const imported = section(2, vec([0], () => [...name('env'), ...name('g'), 0x03, 0x7f, 0x01]));
    const bytes = Uint8Array.from([...HEADER, ...imported, ...section(6, vec([v128, funcref], (g) => g))]);
    const { bytes: out, spec } = rewrite(bytes);
    expect(spec.mutableGlobals).toEqual([
      { index: 0, type: 'i32', imported: true, exportName: '__rp_global_0' },
      { index: 1, type: 'v128', imported: false },
      { index: 2, type: 'funcref', imported: false, exportName: '__rp_global_2' },
    ]);
    expect(exportsOf(out).map((e) => e.name)).toEqual(['__rp_global_0', '__rp_global_2']);
  });

  it('leaves a module whose global initialiser it cannot read as it is, and says so', () => {
    // 0xfb: a GC instruction in a constant expression; the compiler, not the rewrite, judges it.
    const bytes = Uint8Array.from([...HEADER, ...section(6, vec([0], () => [0x7f, 0x01, 0xfb, 0x00, 0x0b]))]);
    const { bytes: out, spec } = rewrite(bytes);
    expect(out).toBe(bytes);
    expect(spec.stackPointer).toMatchObject({ found: false });
    expect(spec.mutableGlobals).toBeUndefined();
  });

  it('only ever returns or throws InvalidModuleError on mutants of real modules, and what V8 validates stays valid', () => {
    const seeds = fc.constantFrom(...real.map((m) => m.bytes));
    const edit = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), bytes: fc.uint8Array({ maxLength: 6 }), cut: fc.nat(4) });
    fc.assert(fc.property(seeds, fc.array(edit, { minLength: 1, maxLength: 3 }), (original, edits) => {
      const bytes = Array.from(original);
      for (const e of edits) bytes.splice(Math.floor(e.at * bytes.length), e.cut, ...e.bytes);
      const mutant = Uint8Array.from(bytes);
      let out: Uint8Array;
      try {
        out = rewrite(mutant).bytes;
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidModuleError);
        return;
      }
      if (isValidWasm(mutant)) expect(isValidWasm(out)).toBe(true);
    }), { seed: 0x5eed, numRuns: depth(400) });
  });
});

describe('finding the stack pointer', () => {
  const frame = { types: [{ params: [], results: [] }], functions: [{ type: 0, body: PROLOGUE }] };

  it('finds it in the C, Rust and Zig conformance modules and the Zig fixtures (stripped: by the prologue), not in Go', () => {
    for (const { file, bytes } of real) {
      const { stackPointer } = rewrite(bytes).spec;
      const llvm = /\/(c|rust|zig|kitchen|reactor)\.wasm$/.test(file);
      const named = /\/stack-(pointer|free)\.wasm$/.test(file);
      expect(stackPointer, file).toMatchObject(llvm || named
        ? { found: true, index: 0, foundBy: named ? 'name' : 'prologue', exportName: '__rp_global_0' }
        : { found: false });
    }
  });

  it('by name, by an LLVM producers section, or by the prologue; never when the names or the producers say otherwise', () => {
    const global = { ...memory, globals: [{ type: 'i32' as const, mutable: true }] };
    expect(rewrite({ ...global, customSections: [globalNames(['__stack_pointer'])] }).spec.stackPointer).toMatchObject({ found: true, foundBy: 'name' });
    expect(rewrite({ ...global, customSections: [producers('clang')] }).spec.stackPointer).toMatchObject({ found: true, foundBy: 'producers' });
    expect(rewrite({ ...global, ...frame }).spec.stackPointer).toMatchObject({ found: true, foundBy: 'prologue' });
    expect(rewrite({ ...global, ...frame, customSections: [globalNames(['heap'])] }).spec.stackPointer).toMatchObject({ found: false });
    expect(rewrite({ ...global, ...frame, customSections: [producers('Go')] }).spec.stackPointer).toMatchObject({ found: false });
    expect(rewrite(global).spec.stackPointer).toMatchObject({ found: false });
    // A named stack pointer that is not a mutable i32 is not used.
    const immutable = { ...memory, globals: [{ type: 'i64' as const, mutable: true }], customSections: [globalNames(['__stack_pointer'])] };
    expect(rewrite(immutable).spec.stackPointer).toMatchObject({ found: false });
  });

  it('reads malformed name and producers sections as absent (custom sections are never refused)', () => {
    const global = { ...memory, globals: [{ type: 'i32' as const, mutable: true }] };
    const broken = [{ name: 'name', bytes: [7, 0x7f, 3] }, { name: 'producers', bytes: [5, 1] }];
    expect(rewrite({ ...global, customSections: broken }).spec.stackPointer).toMatchObject({ found: false });
    expect(rewrite({ ...global, ...frame, customSections: broken }).spec.stackPointer).toMatchObject({ found: true, foundBy: 'prologue' });
  });
});

describe('a pool on a rewritten module', () => {
  it('loads a module the rewrite would push past the compiler\'s limits as it was (the engine\'s export limit)', async () => {
    const withExports = (count: number): Uint8Array => encodeModule({
      memories: [{ initial: 1 }], globals: [{ type: 'i32', mutable: true }],
      exports: Array.from({ length: count }, (_, i) => ({ name: i === 0 ? 'memory' : `m${i}`, kind: 'memory' as const, index: 0 })),
    });
    // V8's limit: 100,000 exports on Node 20 and 22, 1,000,000 on Node 24.
    const limit = [100_000, 1_000_000].find((count) => !isValidWasm(withExports(count + 1)));
    if (limit === undefined) throw new Error('this engine allows over 1,000,000 exports: the test needs another limit');
    const bytes = withExports(limit);
    expect(isValidWasm(bytes)).toBe(true);
    expect(isValidWasm(rewrite(bytes).bytes)).toBe(false);
    const pool = await createPool({ module: bytes, workers: 1 });
    expect(pool.spec.stackPointer).toMatchObject({ found: false, reason: expect.stringContaining('did not compile') });
    expect(pool.spec.mutableGlobals).toBeUndefined();
    expect(pool.spec.exports).toHaveLength(limit);
  }, 120_000); // a million exports on Node 24: seconds to encode, parse and compile on a loaded machine

  it('reports a compile error at the offsets of the user\'s own bytes, not the rewritten ones', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('stack-pointer.wasm')));
    const code = sectionRanges(bytes).find((r) => r.id === 10);
    if (code === undefined) throw new Error('stack-pointer.wasm has no code section');
    bytes[code.end - 2] = 0xff; // an unknown opcode in the last function body
    const expected = await WebAssembly.compile(bytes).then(() => 'compiled', (error: Error) => error.message);
    expect(expected).toMatch(/@\+\d+/);
    const error = await rejection(createPool({ module: bytes, workers: 1 }));
    expect(error).toMatchObject({ code: 'ERR_INVALID_MODULE', message: `invalid module: ${expected}` });
  });

  it('neither lists nor calls the reserved exports', async () => {
    const pool = await createPool({ module: fixture('conformance/c.wasm'), workers: 1 });
    expect(pool.spec.stackPointer).toMatchObject({ found: true });
    expect(pool.spec.exports.some((e) => e.name.startsWith('__rp_'))).toBe(false);
    const session = pool.session('reserved');
    expect((await rejection(session.call('__rp_global_0'))).code).toBe('ERR_UNKNOWN_EXPORT');
    expect(await session.call('inc', 1)).toBe(21);
  });
});
