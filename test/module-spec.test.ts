import { WASI } from 'node:wasi';
import { describe, it, expect } from 'vitest';
import { InvalidModuleError, NotAReactorError, UnsupportedImportError } from '../src/errors.js';
import { assertRunnableReactor, exportedFunctions, parseModuleSpec } from '../src/module-spec.js';
import type { ModuleSpec } from '../src/module-spec.js';
import {
  HEADER, SECTION, encodeModule, funcType, instantiate, isValidWasm, name, op, reactorModule, section, sectionRanges, uleb, vec,
} from './helpers/wasm-encoder.js';
import type { ModuleDef } from './helpers/wasm-encoder.js';

const WASI_MODULE = 'wasi_snapshot_preview1';
const raw = (...parts: number[][]): Uint8Array => Uint8Array.from([...HEADER, ...parts.flat()]);

/** Parses a module the encoder built, after checking V8 agrees it is valid. */
function parseValid(def: ModuleDef): ModuleSpec {
  const bytes = encodeModule(def);
  expect(isValidWasm(bytes)).toBe(true);
  return parseModuleSpec(bytes);
}

/** The InvalidModuleError message parsing `bytes` fails with. */
function invalidMessage(bytes: Uint8Array): string {
  try {
    parseModuleSpec(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidModuleError);
    expect((error as InvalidModuleError).code).toBe('ERR_INVALID_MODULE');
    return (error as InvalidModuleError).message;
  }
  throw new Error('expected parseModuleSpec to throw');
}

function thrown(run: () => void): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('parseModuleSpec: exports', () => {
  it('reads signatures of all four number types, multi-value results and void functions', () => {
    const spec = parseValid({
      types: [
        { params: ['i32', 'i64', 'f32', 'f64'], results: ['f64'] },
        { params: ['i32'], results: ['i32', 'i64', 'f32'] },
        { params: [], results: [] },
        { params: ['v128', 'funcref', 'externref'], results: ['externref'] },
      ],
      functions: [{ type: 0 }, { type: 1 }, { type: 2 }, { type: 3 }],
      exports: [
        { name: 'mix', kind: 'function', index: 0 },
        { name: 'multi', kind: 'function', index: 1 },
        { name: 'void', kind: 'function', index: 2 },
        { name: 'refs', kind: 'function', index: 3 },
      ],
    });
    expect(spec.exports).toEqual([
      { name: 'mix', kind: 'function', signature: { params: ['i32', 'i64', 'f32', 'f64'], results: ['f64'] } },
      { name: 'multi', kind: 'function', signature: { params: ['i32'], results: ['i32', 'i64', 'f32'] } },
      { name: 'void', kind: 'function', signature: { params: [], results: [] } },
      { name: 'refs', kind: 'function', signature: { params: ['v128', 'funcref', 'externref'], results: ['externref'] } },
    ]);
  });

  it('counts imported functions first in the function index space', () => {
    const spec = parseValid({
      types: [{ params: ['i32'], results: [] }, { params: [], results: ['f32'] }],
      imports: [{ module: 'env', name: 'log', kind: 'function', type: 0 }],
      functions: [{ type: 1 }],
      exports: [{ name: 'reexported', kind: 'function', index: 0 }, { name: 'own', kind: 'function', index: 1 }],
    });
    expect(spec.exports.map((e) => e.signature)).toEqual([
      { params: ['i32'], results: [] },
      { params: [], results: ['f32'] },
    ]);
  });

  it('lists exports of every kind, with signatures only for functions and tags', () => {
    const spec = parseValid({
      types: [{ params: ['i32'], results: [] }],
      functions: [{ type: 0, body: [op.end] }],
      tables: [{ element: 'funcref', limits: { initial: 1 } }],
      memories: [{ initial: 1 }],
      tags: [0],
      globals: [{ type: 'i64', mutable: true }],
      exports: [
        { name: 'f', kind: 'function', index: 0 },
        { name: 't', kind: 'table', index: 0 },
        { name: 'm', kind: 'memory', index: 0 },
        { name: 'g', kind: 'global', index: 0 },
        { name: 'e', kind: 'tag', index: 0 },
      ],
    });
    expect(spec.exports).toEqual([
      { name: 'f', kind: 'function', signature: { params: ['i32'], results: [] } },
      { name: 't', kind: 'table' },
      { name: 'm', kind: 'memory' },
      { name: 'g', kind: 'global' },
      { name: 'e', kind: 'tag', signature: { params: ['i32'], results: [] } },
    ]);
  });

  it('decodes UTF-8 export names, and keeps a leading byte order mark', () => {
    const spec = parseValid({
      types: [{ params: [], results: [] }],
      functions: [{ type: 0 }, { type: 0 }],
      exports: [{ name: 'größe_π', kind: 'function', index: 0 }, { name: '\uFEFFgröße_π', kind: 'function', index: 1 }],
    });
    expect(spec.exports.map((e) => e.name)).toEqual(['größe_π', '\uFEFFgröße_π']);
  });

  it('exportedFunctions maps export names to signatures, functions only', () => {
    const spec = parseModuleSpec(reactorModule({ add: { params: ['i32', 'i32'], results: ['i32'] }, tick: { params: [], results: [] } }));
    const functions = exportedFunctions(spec);
    expect([...functions.keys()]).toEqual(['add', 'tick']);
    expect(functions.get('add')).toEqual({ params: ['i32', 'i32'], results: ['i32'] });
    expect(functions.has('memory')).toBe(false);
  });
});

describe('parseModuleSpec: imports', () => {
  it('reads imports of each kind', () => {
    const spec = parseValid({
      types: [{ params: ['i32', 'i32'], results: ['i32'] }, { params: ['i64'], results: [] }],
      imports: [
        { module: WASI_MODULE, name: 'fd_write', kind: 'function', type: 0 },
        { module: 'env', name: 'table', kind: 'table', element: 'externref', limits: { initial: 2, maximum: 10 } },
        { module: 'env', name: 'memory', kind: 'memory', limits: { initial: 1 } },
        { module: 'env', name: 'counter', kind: 'global', type: 'i32', mutable: true },
        { module: 'env', name: 'oops', kind: 'tag', type: 1 },
      ],
    });
    expect(spec.imports).toEqual([
      { module: WASI_MODULE, name: 'fd_write', kind: 'function', signature: { params: ['i32', 'i32'], results: ['i32'] } },
      { module: 'env', name: 'table', kind: 'table' },
      { module: 'env', name: 'memory', kind: 'memory' },
      { module: 'env', name: 'counter', kind: 'global' },
      { module: 'env', name: 'oops', kind: 'tag', signature: { params: ['i64'], results: [] } },
    ]);
  });

  it('describes an imported memory, and its export name when re-exported', () => {
    const imports = [{ module: 'env', name: 'mem', kind: 'memory', limits: { initial: 2, maximum: 4 } }] as const;
    expect(parseValid({ imports }).memory).toEqual({ initialPages: 2, maximumPages: 4, shared: false, memory64: false, imported: true });
    expect(parseValid({ imports, exports: [{ name: 'memory', kind: 'memory', index: 0 }] }).memory)
      .toEqual({ initialPages: 2, maximumPages: 4, shared: false, memory64: false, imported: true, exportName: 'memory' });
  });
});

describe('parseModuleSpec: memory', () => {
  it('reads initial and maximum pages', () => {
    expect(parseValid({ memories: [{ initial: 3 }] }).memory)
      .toEqual({ initialPages: 3, shared: false, memory64: false, imported: false });
    expect(parseValid({ memories: [{ initial: 0, maximum: 65536 }] }).memory)
      .toEqual({ initialPages: 0, maximumPages: 65536, shared: false, memory64: false, imported: false });
  });

  it('reads the shared flag', () => {
    expect(parseValid({ memories: [{ initial: 1, maximum: 2, shared: true }] }).memory)
      .toMatchObject({ initialPages: 1, maximumPages: 2, shared: true, memory64: false });
  });

  it('reads the memory64 flag, with 64-bit limits', () => {
    // Not validated: Node 20 does not enable memory64.
    const bytes = encodeModule({ memories: [{ initial: 2 ** 40, maximum: 2 ** 48, memory64: true, shared: true }] });
    expect(parseModuleSpec(bytes).memory).toEqual({
      initialPages: 2 ** 40, maximumPages: 2 ** 48, shared: true, memory64: true, imported: false,
    });
  });

  it('describes the first memory only, and prefers the export name `memory`', () => {
    const spec = parseModuleSpec(encodeModule({
      imports: [{ module: 'env', name: 'm0', kind: 'memory', limits: { initial: 5 } }],
      memories: [{ initial: 1 }],
      exports: [{ name: 'alias', kind: 'memory', index: 0 }, { name: 'memory', kind: 'memory', index: 0 }, { name: 'second', kind: 'memory', index: 1 }],
    }));
    expect(spec.memory).toEqual({ initialPages: 5, shared: false, memory64: false, imported: true, exportName: 'memory' });
  });

  it('has no memory when the module has none', () => {
    const spec = parseValid({});
    expect(spec).toEqual({
      exports: [], imports: [], execModel: 'reactor', hasInitialize: false, byteLength: 8, snapshot: { possible: true, reasons: [] },
    });
    expect('memory' in spec).toBe(false);
  });
});

describe('parseModuleSpec: exec model', () => {
  const withExports = (...names: string[]): ModuleSpec => parseValid({
    types: [{ params: [], results: [] }],
    functions: [{ type: 0 }],
    memories: [{ initial: 1 }],
    exports: [{ name: 'memory', kind: 'memory', index: 0 }, ...names.map((n) => ({ name: n, kind: 'function' as const, index: 0 }))],
  });

  it('is a reactor with `_initialize`', () => {
    expect(withExports('_initialize')).toMatchObject({ execModel: 'reactor', hasInitialize: true });
  });
  it('is a command with `_start`', () => {
    expect(withExports('_start')).toMatchObject({ execModel: 'command', hasInitialize: false });
    expect(withExports('_start', '_initialize')).toMatchObject({ execModel: 'command', hasInitialize: true });
  });
  it('is a reactor without initialiser when it exports neither', () => {
    expect(withExports('run')).toMatchObject({ execModel: 'reactor', hasInitialize: false });
  });
  it('counts `_initialize` only when it is a function, but `_start` of any kind (node:wasi refuses any `_start`)', () => {
    const spec = parseValid({
      globals: [{ type: 'i32' }],
      exports: [{ name: '_initialize', kind: 'global', index: 0 }, { name: '_start', kind: 'global', index: 0 }],
    });
    expect(spec).toMatchObject({ execModel: 'command', hasInitialize: false });
  });
});

describe('parseModuleSpec: the result', () => {
  const bytes = encodeModule({
    types: [{ params: ['i32'], results: ['i64'] }],
    imports: [{ module: WASI_MODULE, name: 'proc_exit', kind: 'function', type: 0 }],
    functions: [{ type: 0 }],
    memories: [{ initial: 1, maximum: 3 }],
    exports: [{ name: 'memory', kind: 'memory', index: 0 }, { name: 'f', kind: 'function', index: 1 }],
    customSections: [{ name: 'producers', bytes: [1, 2, 3] }],
  });

  it('reports the byte length, and skips custom sections', () => {
    expect(isValidWasm(bytes)).toBe(true);
    expect(parseModuleSpec(bytes).byteLength).toBe(bytes.length);
  });
  it('survives structured cloning unchanged (it is posted to workers)', () => {
    const spec = parseModuleSpec(bytes);
    expect(structuredClone(spec)).toEqual(spec);
  });
  it('accepts padded (non-minimal) LEB128 integers, as V8 does', () => {
    const padded = raw(section(SECTION.type, [...uleb(1, 5), 0x60, ...uleb(1, 3), 0x7f, ...uleb(0, 5)]));
    const withPaddedSize = raw([SECTION.type, ...uleb(4, 5), 1, 0x60, 0, 0]);
    expect(isValidWasm(padded) && isValidWasm(withPaddedSize)).toBe(true);
    expect(parseModuleSpec(padded).byteLength).toBe(padded.length);
    expect(parseModuleSpec(withPaddedSize).byteLength).toBe(withPaddedSize.length);
  });

  it('reads a Uint8Array view into a larger buffer', () => {
    const padded = new Uint8Array(bytes.length + 20);
    padded.set(bytes, 7);
    expect(parseModuleSpec(padded.subarray(7, 7 + bytes.length))).toEqual(parseModuleSpec(bytes));
    expect(parseModuleSpec(Buffer.from(bytes))).toEqual(parseModuleSpec(bytes));
  });
});

describe('assertRunnableReactor', () => {
  const fn = { params: [], results: [] } as const;

  it('accepts a reactor with an exported memory and WASI imports', () => {
    const spec = parseModuleSpec(reactorModule({ _initialize: fn, run: fn }, [{ module: WASI_MODULE, name: 'fd_write', type: fn }]));
    expect(() => assertRunnableReactor(spec)).not.toThrow();
  });

  it('refuses a WASI command, naming `_start`', () => {
    const error = thrown(() => assertRunnableReactor(parseModuleSpec(reactorModule({ _start: fn }))));
    expect(error).toBeInstanceOf(NotAReactorError);
    expect(error.code).toBe('ERR_NOT_A_REACTOR');
    expect(error.message).toMatch(/WASI command/);
    expect(error.message).toContain('`_start`');
  });

  it('checks for `_start` before anything else', () => {
    const spec = parseValid({ types: [fn], imports: [{ module: 'env', name: 'x', kind: 'function', type: 0 }], exports: [{ name: '_start', kind: 'function', index: 0 }] });
    expect(thrown(() => assertRunnableReactor(spec)).code).toBe('ERR_NOT_A_REACTOR');
  });

  it.each<[string, ModuleDef, RegExp]>([
    ['no memory at all', {}, /it has no memory/],
    ['a memory that is not exported', { memories: [{ initial: 1 }] }, /memory is defined but not exported/],
    ['an imported memory that is not exported', { imports: [{ module: 'env', name: 'm', kind: 'memory', limits: { initial: 1 } }] }, /memory is imported but not exported/],
    ['a memory exported under another name', { memories: [{ initial: 1 }], exports: [{ name: 'mem', kind: 'memory', index: 0 }] }, /exports its memory as `mem`/],
    ['an export `memory` that is not a memory', { globals: [{ type: 'i32' }], exports: [{ name: 'memory', kind: 'global', index: 0 }] }, /`memory` is a global/],
  ])('refuses %s: node:wasi needs an exported memory', (_, def, why) => {
    const error = thrown(() => assertRunnableReactor(parseValid({ ...def, imports: [...(def.imports ?? []), { module: 'env', name: 'x', kind: 'global', type: 'i32' }] })));
    expect(error).toBeInstanceOf(InvalidModuleError);
    expect(error.code).toBe('ERR_INVALID_MODULE');
    expect(error.message).toContain('node:wasi needs an exported memory named `memory`');
    expect(error.message).toMatch(why);
  });

  it('refuses an `_initialize` that is not a function', () => {
    const spec = parseValid({ memories: [{ initial: 1 }], globals: [{ type: 'i32' }],
      exports: [{ name: 'memory', kind: 'memory', index: 0 }, { name: '_initialize', kind: 'global', index: 0 }] });
    const error = thrown(() => assertRunnableReactor(spec));
    expect(error.code).toBe('ERR_INVALID_MODULE');
    expect(error.message).toContain('`_initialize` is exported as a global');
  });

  it('refuses every import nobody supplies, naming all of them in one message', () => {
    const spec = parseModuleSpec(reactorModule({ run: fn }, [
      { module: 'env', name: 'log', type: fn },
      { module: WASI_MODULE, name: 'fd_write', type: fn },
      { module: 'env', name: 'abort', type: fn },
      { module: 'host', name: 'now', type: fn },
    ]));
    const error = thrown(() => assertRunnableReactor(spec));
    expect(error).toBeInstanceOf(UnsupportedImportError);
    expect(error.code).toBe('ERR_UNSUPPORTED_IMPORT');
    expect(error.message).toContain('`env.log`, `env.abort`, `host.now`');
    expect(error.message).not.toContain('fd_write');
  });

  it('allows imports from supplied modules', () => {
    const spec = parseModuleSpec(reactorModule({ run: fn }, [{ module: 'env', name: 'log', type: fn }, { module: 'host', name: 'now', type: fn }]));
    expect(() => assertRunnableReactor(spec, ['env', 'host'])).not.toThrow();
    const error = thrown(() => assertRunnableReactor(spec, ['env']));
    expect(error.code).toBe('ERR_UNSUPPORTED_IMPORT');
    expect(error.message).toContain('`host.now`');
    expect(error.message).not.toContain('`env.log`');
  });

  it('refuses a non-function import from wasi_snapshot_preview1, even alongside other refusals', () => {
    const spec = parseValid({
      imports: [
        { module: WASI_MODULE, name: 'memory', kind: 'memory', limits: { initial: 1 } },
        { module: 'env', name: 'g', kind: 'global', type: 'i32' },
      ],
      exports: [{ name: 'memory', kind: 'memory', index: 0 }],
    });
    const error = thrown(() => assertRunnableReactor(spec));
    expect(error.code).toBe('ERR_UNSUPPORTED_IMPORT');
    expect(error.message).toContain(`\`${WASI_MODULE}.memory\` (a memory`);
    expect(error.message).toContain('`env.g`');
    expect(thrown(() => assertRunnableReactor(spec, ['env', WASI_MODULE])).message).toContain(`${WASI_MODULE}.memory`);
  });
});

describe('parseModuleSpec: invalid input', () => {
  const typeSection = section(SECTION.type, vec([{ params: ['i32'], results: [] }], funcType));

  it.each([
    ['empty input', new Uint8Array(0), /empty input/],
    ['bad magic', Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 1, 0, 0, 0]), /not a WebAssembly binary.*7f 45 4c 46/],
    ['text instead of binary', new TextEncoder().encode('(module)'), /not a WebAssembly binary/],
    ['a truncated magic', Uint8Array.from([0, 0x61, 0x73]), /header truncated/],
    ['a truncated version', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0]), /header truncated/],
    ['bad version', Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), /unsupported binary version 2/],
    ['a component binary', Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]), /WebAssembly component, not a core module/],
  ])('refuses %s', (_, bytes, message) => {
    expect(invalidMessage(bytes)).toMatch(message);
  });

  it('refuses what is not a Uint8Array', () => {
    expect(invalidMessage(new ArrayBuffer(8) as unknown as Uint8Array)).toMatch(/Uint8Array/);
  });

  it('refuses a module truncated anywhere inside any section, naming that section', () => {
    const bytes = encodeModule({
      types: [{ params: ['i32', 'f64'], results: ['i64'] }, { params: [], results: [] }],
      imports: [{ module: WASI_MODULE, name: 'fd_write', kind: 'function', type: 1 }, { module: 'env', name: 'g', kind: 'global', type: 'f32' }],
      functions: [{ type: 0 }, { type: 1 }],
      tables: [{ element: 'funcref', limits: { initial: 1, maximum: 2 } }],
      memories: [{ initial: 1, maximum: 2 }],
      tags: [1],
      globals: [{ type: 'i32', mutable: true }],
      exports: [{ name: 'memory', kind: 'memory', index: 0 }, { name: 'f', kind: 'function', index: 1 }],
      start: 2,
      customSections: [{ name: 'name', bytes: [0, 1, 2, 3] }],
    });
    expect(isValidWasm(bytes)).toBe(true);
    const names = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'data count', 'tag'];
    const ranges = sectionRanges(bytes);
    expect(ranges.map((r) => names[r.id])).toEqual(['type', 'import', 'function', 'table', 'memory', 'tag', 'global', 'export', 'start', 'code', 'custom']);
    for (const range of ranges) {
      for (let cut = range.start + 1; cut < range.end; cut++) {
        expect(invalidMessage(bytes.subarray(0, cut))).toMatch(new RegExp(`^invalid module: ${names[range.id]} section at byte \\d+: `));
      }
    }
  });

  it('gives the section and byte offset, as in "type section at byte 10"', () => {
    // A function type cut short: the section's size is honest, its contents are not.
    expect(invalidMessage(raw(section(SECTION.type, [1, 0x60, 1, 0x7f]))))
      .toBe('invalid module: type section at byte 14: unexpected end of type section');
    expect(invalidMessage(raw(section(SECTION.type, [1, 0x60, 0, 0]), section(SECTION.function, [1, 7]))))
      .toBe('invalid module: function section at byte 17: type index 7 out of range (1 type)');
  });

  it('refuses a section extending past the end of the module', () => {
    expect(invalidMessage(raw([SECTION.type, 10, 0]))).toMatch(/type section at byte 8: extends past the end of the module \(10 bytes declared, 1 remain\)/);
    expect(invalidMessage(raw([SECTION.custom, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toMatch(/custom section at byte 8: extends past the end/);
  });

  it('refuses trailing bytes inside a section', () => {
    expect(invalidMessage(raw(section(SECTION.type, [0, 0x60, 0])))).toMatch(/type section at byte 11: 2 unexpected bytes at end of section/);
    expect(invalidMessage(raw(section(SECTION.start, [0, 0])))).toMatch(/start section .*function index 0 out of range/);
  });

  it('refuses counts larger than the bytes left, before allocating', () => {
    expect(invalidMessage(raw(section(SECTION.type, [...uleb(4_000_000_000), 0x60])))).toMatch(/type section at byte 10: 4000000000 types declared but only 1 bytes remain/);
    expect(invalidMessage(raw(section(SECTION.export, [1, ...uleb(1000), 0x61])))).toMatch(/export section .*1000 name bytes declared/);
  });

  it('refuses over-long and oversized LEB128 integers', () => {
    expect(invalidMessage(raw(section(SECTION.type, [0x80, 0x80, 0x80, 0x80, 0x80, 0x00])))).toMatch(/type section at byte 10: integer does not fit in 32 bits/);
    expect(invalidMessage(raw(section(SECTION.type, [0xff, 0xff, 0xff, 0xff, 0x1f])))).toMatch(/integer does not fit in 32 bits/);
    expect(invalidMessage(raw([SECTION.type, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))).toMatch(/type section at byte 9: integer does not fit/);
  });

  it('refuses names that are not valid UTF-8', () => {
    const badExport = raw(typeSection, section(SECTION.function, [1, 0]), section(SECTION.export, [1, 2, 0xc3, 0x28, 0, 0]));
    expect(invalidMessage(badExport)).toMatch(/export section at byte \d+: name is not valid UTF-8/);
    const badImport = raw(typeSection, section(SECTION.import, [1, ...name('env'), 1, 0xff, 0, 0]));
    expect(invalidMessage(badImport)).toMatch(/import section at byte \d+: name is not valid UTF-8/);
  });

  it('refuses out-of-range type indices in function, import and tag declarations', () => {
    expect(invalidMessage(raw(typeSection, section(SECTION.function, [2, 0, 1])))).toMatch(/function section at byte \d+: type index 1 out of range \(1 type\)/);
    expect(invalidMessage(raw(section(SECTION.import, [1, ...name('env'), ...name('f'), 0, 0])))).toMatch(/import section .*type index 0 out of range \(0 types\)/);
    expect(invalidMessage(raw(typeSection, section(SECTION.tag, [1, 0, 3])))).toMatch(/tag section .*type index 3 out of range/);
  });

  it('refuses out-of-range export indices', () => {
    const exportOf = (kind: number, index: number): number[] => section(SECTION.export, [1, ...name('x'), kind, index]);
    expect(invalidMessage(raw(typeSection, section(SECTION.function, [1, 0]), exportOf(0, 1)))).toMatch(/export section .*function index 1 out of range \(1 function\)/);
    expect(invalidMessage(raw(exportOf(2, 0)))).toMatch(/memory index 0 out of range \(0 memories\)/);
    expect(invalidMessage(raw(exportOf(3, 0)))).toMatch(/global index 0 out of range/);
    expect(invalidMessage(raw(exportOf(9, 0)))).toMatch(/unknown export kind 0x09/);
  });

  it('refuses duplicate export names', () => {
    const bytes = encodeModule({ memories: [{ initial: 1 }], exports: [{ name: 'memory', kind: 'memory', index: 0 }, { name: 'memory', kind: 'memory', index: 0 }] });
    expect(isValidWasm(bytes)).toBe(false);
    expect(invalidMessage(bytes)).toMatch(/export section at byte \d+: duplicate export name "memory"/);
  });

  it('refuses duplicate and out-of-order sections', () => {
    expect(invalidMessage(raw(typeSection, typeSection))).toMatch(/type section at byte \d+: duplicate section/);
    expect(invalidMessage(raw(section(SECTION.export, [0]), typeSection))).toMatch(/type section at byte 11: out of order \(after the export section\)/);
  });

  it('refuses unknown value types, and GC type forms as unsupported', () => {
    expect(invalidMessage(raw(section(SECTION.type, [1, 0x60, 1, 0x40, 0])))).toMatch(/type section at byte 13: unknown value type 0x40/);
    expect(invalidMessage(raw(section(SECTION.type, [1, 0x60, 1, 0x64, 0x70, 0])))).toMatch(/unsupported value type 0x64/);
    expect(invalidMessage(raw(section(SECTION.type, [1, 0x4e, 0])))).toMatch(/type section at byte 11: unsupported type form 0x4e/);
    expect(invalidMessage(raw(section(SECTION.type, [1, 0x61, 0, 0])))).toMatch(/expected a function type \(0x60\), got 0x61/);
  });

  it('refuses malformed import descriptors and limits', () => {
    const importOf = (...desc: number[]): Uint8Array => raw(section(SECTION.import, [1, ...name('env'), ...name('x'), ...desc]));
    expect(invalidMessage(importOf(5))).toMatch(/unknown import kind 0x05/);
    expect(invalidMessage(importOf(2, 0x08, 1))).toMatch(/unknown limits flags 0x08/);
    expect(invalidMessage(importOf(1, 0x7f, 0, 1))).toMatch(/table element type must be a reference, got i32/);
    expect(invalidMessage(importOf(3, 0x7f, 2))).toMatch(/unknown global mutability 0x02/);
    expect(invalidMessage(importOf(4, 1, 0))).toMatch(/unknown tag attribute 0x01/);
  });

  it('skips the bodies of sections it does not need, and unknown sections', () => {
    const bytes = raw(typeSection, section(SECTION.code, [0xde, 0xad]), section(SECTION.data, [0xbe, 0xef]), section(42, [1, 2, 3]), section(SECTION.custom, [...name('x'), 0xff]));
    expect(parseModuleSpec(bytes)).toMatchObject({ exports: [], imports: [] });
  });
});

describe('assertRunnableReactor agrees with node:wasi', () => {
  const fn = { params: [], results: [] } as const;
  /** Whether node:wasi's `initialize()` accepts an instance of the module. */
  function wasiInitializes(bytes: Uint8Array): boolean {
    const wasi = new WASI({ version: 'preview1' });
    try {
      wasi.initialize(instantiate(bytes, wasi.getImportObject()));
      return true;
    } catch {
      return false;
    }
  }

  it.each<[string, Uint8Array]>([
    ['a reactor', reactorModule({ _initialize: fn, run: fn }, [{ module: WASI_MODULE, name: 'fd_write', type: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] } }])],
    ['a reactor without `_initialize`', reactorModule({ run: fn })],
    ['a command', reactorModule({ _start: fn })],
    ['a module without memory', encodeModule({ types: [fn], functions: [{ type: 0 }], exports: [{ name: '_initialize', kind: 'function', index: 0 }] })],
    ['a memory exported as `mem`', encodeModule({ memories: [{ initial: 1 }], exports: [{ name: 'mem', kind: 'memory', index: 0 }] })],
    ['a global `_initialize`', encodeModule({ memories: [{ initial: 1 }], globals: [{ type: 'i32' }], exports: [{ name: 'memory', kind: 'memory', index: 0 }, { name: '_initialize', kind: 'global', index: 0 }] })],
  ])('accepts %s exactly when node:wasi initialises it', (_, bytes) => {
    const accepted = ((): boolean => {
      try {
        assertRunnableReactor(parseModuleSpec(bytes));
        return true;
      } catch {
        return false;
      }
    })();
    expect(accepted).toBe(wasiInitializes(bytes));
  });
});
