import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { InvalidModuleError } from '../src/errors.js';
import { parseModuleSpec } from '../src/module-spec.js';
import type { ExportSpec, ImportSpec, ModuleSpec, SnapshotBlockerCode, SnapshotSpec, ValueType } from '../src/module-spec.js';
import { HEADER, encodeModule, isValidWasm, name, sectionRanges, uleb } from './helpers/wasm-encoder.js';
import type { Export, FuncType, Import, Limits, ModuleDef } from './helpers/wasm-encoder.js';
import { depth } from './helpers/depth.js';

// Real modules, when the people building them have built them by the time this runs.
const realModules: { file: string; bytes: Uint8Array }[] = (() => {
  const files = [fileURLToPath(new URL('../reactor/reactor.wasm', import.meta.url))];
  const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
  if (existsSync(fixtures)) files.push(...readdirSync(fixtures).filter((f) => f.endsWith('.wasm')).map((f) => `${fixtures}${f}`));
  return files.filter((file) => existsSync(file)).map((file) => ({ file, bytes: new Uint8Array(readFileSync(file)) }));
})();

// --- Valid modules, with the spec the parser should find in each ---

const numberType = fc.constantFrom<ValueType>('i32', 'i64', 'f32', 'f64');
const valueType = fc.constantFrom<ValueType>('i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref');
const funcType = fc.record({ params: fc.array(valueType, { maxLength: 4 }), results: fc.array(valueType, { maxLength: 3 }) });
const tableLimits = fc.record({ initial: fc.nat(4), extra: fc.option(fc.nat(4), { nil: undefined }) })
  .map(({ initial, extra }): Limits => (extra === undefined ? { initial } : { initial, maximum: initial + extra }));
const memoryLimits = fc.record({ initial: fc.nat(4), extra: fc.option(fc.nat(4), { nil: undefined }), shared: fc.boolean() })
  .map(({ initial, extra, shared }): Limits => {
    if (extra === undefined) return { initial };
    return shared ? { initial, maximum: initial + extra, shared } : { initial, maximum: initial + extra };
  });
const importName = fc.constantFrom('wasi_snapshot_preview1', 'env', 'host', 'ünï', '');
const fieldName = fc.string({ unit: 'grapheme', maxLength: 6 });
// Indices are drawn as plain numbers and reduced modulo what exists, so that every module is valid.
const importDraft = fc.record({
  module: importName, name: fieldName, kind: fc.constantFrom('function', 'table', 'memory', 'global', 'tag'),
  type: fc.nat(), value: numberType, mutable: fc.boolean(), element: fc.constantFrom<'funcref' | 'externref'>('funcref', 'externref'),
  table: tableLimits, memory: memoryLimits,
});
const exportDraft = fc.record({ kind: fc.constantFrom('function', 'table', 'memory', 'global', 'tag'), index: fc.nat() });

const moduleDef = fc.record({
  types: fc.array(funcType, { maxLength: 4 }),
  imports: fc.array(importDraft, { maxLength: 5 }),
  functions: fc.array(fc.nat(), { maxLength: 4 }),
  tables: fc.array(fc.record({ element: fc.constantFrom<'funcref' | 'externref'>('funcref', 'externref'), limits: tableLimits }), { maxLength: 2 }),
  memory: fc.option(memoryLimits, { nil: undefined }),
  tags: fc.array(fc.constant(0), { maxLength: 2 }),
  globals: fc.array(fc.record({ type: fc.constantFrom<'i32' | 'i64' | 'f32' | 'f64'>('i32', 'i64', 'f32', 'f64'), mutable: fc.boolean() }), { maxLength: 2 }),
  exports: fc.uniqueArray(fc.record({ name: fieldName, draft: exportDraft }), { maxLength: 6, selector: (e) => e.name }),
  customs: fc.array(fc.record({ name: fieldName, bytes: fc.array(fc.nat(255), { maxLength: 8 }) }), { maxLength: 2 }),
}).map((d): ModuleDef => {
  const types: FuncType[] = [{ params: [], results: [] }, ...d.types]; // type 0 suits tags
  let importedMemory = false;
  const imports = d.imports.flatMap((i): Import[] => {
    const base = { module: i.module, name: i.name };
    switch (i.kind) {
      case 'function': return [{ ...base, kind: 'function', type: i.type % types.length }];
      case 'table': return [{ ...base, kind: 'table', element: i.element, limits: i.table }];
      case 'global': return [{ ...base, kind: 'global', type: i.value, mutable: i.mutable }];
      case 'tag': return [{ ...base, kind: 'tag', type: 0 }];
      default:
        if (importedMemory) return []; // one memory at most: Node 20 has no multi-memory
        importedMemory = true;
        return [{ ...base, kind: 'memory', limits: i.memory }];
    }
  });
  const memories = d.memory === undefined || importedMemory ? [] : [d.memory];
  const count = (kind: Import['kind'], defined: number): number => imports.filter((i) => i.kind === kind).length + defined;
  const counts = { function: count('function', d.functions.length), table: count('table', d.tables.length),
    memory: count('memory', memories.length), global: count('global', d.globals.length), tag: count('tag', d.tags.length) };
  const exports = d.exports.flatMap(({ name, draft }): Export[] =>
    (counts[draft.kind] === 0 ? [] : [{ name, kind: draft.kind, index: draft.index % counts[draft.kind] }]));
  return {
    types, imports, functions: d.functions.map((t) => ({ type: t % types.length })), tables: d.tables, memories, tags: d.tags,
    globals: d.globals, exports, customSections: d.customs,
  };
});

/** What the parser should report for a module built from `def`, worked out independently of the binary. */
function expectedSpec(def: ModuleDef, byteLength: number): ModuleSpec {
  const types = def.types ?? [];
  const imports = def.imports ?? [];
  const signatureOf = (type: number): FuncType => types[type] ?? { params: [], results: [] };
  const functionTypes = [...imports.flatMap((i) => (i.kind === 'function' ? [i.type] : [])), ...(def.functions ?? []).map((f) => f.type)];
  const tagTypes = [...imports.flatMap((i) => (i.kind === 'tag' ? [i.type] : [])), ...(def.tags ?? [])];
  const exports = (def.exports ?? []).map((e): ExportSpec => {
    const type = e.kind === 'function' ? functionTypes[e.index] : e.kind === 'tag' ? tagTypes[e.index] : undefined;
    return type === undefined ? { name: e.name, kind: e.kind } : { name: e.name, kind: e.kind, signature: signatureOf(type) };
  });
  const spec: ModuleSpec = {
    exports,
    imports: imports.map((i): ImportSpec => {
      const base = { module: i.module, name: i.name, kind: i.kind };
      return i.kind === 'function' || i.kind === 'tag' ? { ...base, signature: signatureOf(i.type) } : base;
    }),
    execModel: exports.some((e) => e.name === '_start') ? 'command' : 'reactor',
    hasInitialize: exports.some((e) => e.name === '_initialize' && e.kind === 'function'),
    byteLength,
    snapshot: expectedSnapshot(def),
  };
  const importedMemory = imports.find((i) => i.kind === 'memory');
  const limits = importedMemory?.kind === 'memory' ? importedMemory.limits : def.memories?.[0];
  if (limits === undefined) return spec;
  const names = (def.exports ?? []).filter((e) => e.kind === 'memory' && e.index === 0).map((e) => e.name);
  const exportName = names.includes('memory') ? 'memory' : names[0];
  return {
    ...spec,
    memory: {
      initialPages: limits.initial,
      ...(limits.maximum === undefined ? {} : { maximumPages: limits.maximum }),
      shared: limits.shared === true,
      memory64: false,
      ...(exportName === undefined ? {} : { exportName }),
      imported: importedMemory !== undefined,
    },
  };
}

/**
 * The snapshot verdict for a module built from `def` (messages aside): generated modules have no start
 * function, no data, no table-changing code and only number globals, so only imports and exports block
 * (an exported table, when some table holds externref values).
 */
function expectedSnapshot(def: ModuleDef): SnapshotSpec {
  const imports = def.imports ?? [];
  const memory = imports.find((i) => i.kind === 'memory')?.limits ?? def.memories?.[0];
  const codes: SnapshotBlockerCode[] = [
    ...(memory?.shared === true ? ['shared-memory' as const] : []),
    ...(imports.some((i) => i.kind === 'memory') ? ['imported-memory' as const] : []),
    ...(imports.some((i) => i.kind === 'table') ? ['imported-table' as const] : []),
    ...(imports.some((i) => i.kind === 'global' && i.mutable === true) ? ['imported-mutable-global' as const] : []),
    ...((def.exports ?? []).some((e) => e.kind === 'table') && [...imports, ...(def.tables ?? [])].some((t) => 'element' in t && t.element === 'externref')
      ? ['mutable-table' as const] : []),
  ];
  return { possible: codes.length === 0, reasons: codes.map((code) => ({ code, message: expect.any(String) as string })) };
}

// --- Mutations ---

type Mutation =
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'overwrite'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly op: 'delete'; readonly at: number; readonly length: number };

// Positions are fractions of the length, so one mutation fits any module.
const position = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const someBytes = fc.array(fc.oneof(fc.nat(255), fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x60, 0x0b)), { minLength: 1, maxLength: 4 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  position.map((at) => ({ op: 'truncate' as const, at })),
  fc.record({ op: fc.constant('overwrite' as const), at: position, bytes: someBytes }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: someBytes }),
  fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 4 }) }),
);

function mutate(original: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Array.from(original);
  for (const m of mutations) {
    const at = Math.floor(m.at * bytes.length);
    if (m.op === 'truncate') bytes = bytes.slice(0, at);
    if (m.op === 'overwrite') bytes.splice(at, m.bytes.length, ...m.bytes);
    if (m.op === 'insert') bytes.splice(at, 0, ...m.bytes);
    if (m.op === 'delete') bytes.splice(at, m.length);
  }
  return Uint8Array.from(bytes);
}

// Rewrites that keep a module valid, so that the no-false-refusals property sees many valid
// variants (random mutants are almost never valid): extra custom sections, padded section sizes.
type Rewrite =
  | { readonly op: 'custom'; readonly at: number; readonly name: string; readonly bytes: readonly number[] }
  | { readonly op: 'pad'; readonly at: number; readonly width: number };

const rewriteArb: fc.Arbitrary<Rewrite> = fc.oneof(
  fc.record({ op: fc.constant('custom' as const), at: position, name: fc.string({ unit: 'grapheme', maxLength: 8 }), bytes: fc.array(fc.nat(255), { maxLength: 8 }) }),
  fc.record({ op: fc.constant('pad' as const), at: position, width: fc.integer({ min: 1, max: 5 }) }),
);

function rewrite(original: Uint8Array, rewrites: readonly Rewrite[]): Uint8Array {
  const sections = sectionRanges(original).map((r) => ({ id: r.id, width: 1, content: Array.from(original.subarray(r.contentStart, r.end)) }));
  for (const w of rewrites) {
    const at = Math.floor(w.at * (sections.length + 1));
    if (w.op === 'custom') sections.splice(at, 0, { id: 0, width: 1, content: [...name(w.name), ...w.bytes] });
    const target = sections[at];
    if (w.op === 'pad' && target !== undefined) target.width = w.width;
  }
  return Uint8Array.from([...HEADER, ...sections.flatMap((s) => [s.id, ...uleb(s.content.length, s.width), ...s.content])]);
}

/** The parser's one allowed failure: InvalidModuleError. Returns whether it succeeded. */
function parsesOrRefuses(bytes: Uint8Array): boolean {
  try {
    parseModuleSpec(bytes);
    return true;
  } catch (error) {
    if (!(error instanceof InvalidModuleError) || error.code !== 'ERR_INVALID_MODULE') throw error;
    expect(error.message).toMatch(/^invalid module: /);
    return false;
  }
}

/** No false refusals: whatever V8 accepts, the parser must accept. */
function acceptsWhatV8Accepts(bytes: Uint8Array): void {
  const parsed = parsesOrRefuses(bytes);
  if (isValidWasm(bytes)) expect(parsed, 'V8 validates this module, so the parser must accept it').toBe(true);
}

const runs = { numRuns: depth(300) } as const;

describe('parseModuleSpec, fuzzed', () => {
  it('reads every generated (valid) module exactly as it was built', () => {
    fc.assert(fc.property(moduleDef, (def) => {
      const bytes = encodeModule(def);
      expect(isValidWasm(bytes)).toBe(true);
      const spec = parseModuleSpec(bytes);
      expect(spec).toEqual(expectedSpec(def, bytes.length));
      expect(structuredClone(spec)).toEqual(spec);
    }), runs);
  });

  it('only ever returns a spec or throws InvalidModuleError, for mutants of generated modules', () => {
    fc.assert(fc.property(moduleDef, fc.array(mutation, { minLength: 1, maxLength: 3 }), (def, mutations) => {
      parsesOrRefuses(mutate(encodeModule(def), mutations));
    }), runs);
  });

  it('accepts every mutant that WebAssembly.validate accepts', () => {
    fc.assert(fc.property(moduleDef, fc.array(mutation, { minLength: 1, maxLength: 2 }), (def, mutations) => {
      acceptsWhatV8Accepts(mutate(encodeModule(def), mutations));
    }), runs);
  });

  it('reads the same spec through custom sections and padded section sizes', () => {
    fc.assert(fc.property(moduleDef, fc.array(rewriteArb, { minLength: 1, maxLength: 4 }), (def, rewrites) => {
      const original = encodeModule(def);
      const rewritten = rewrite(original, rewrites);
      expect(isValidWasm(rewritten)).toBe(true);
      expect(parseModuleSpec(rewritten)).toEqual({ ...parseModuleSpec(original), byteLength: rewritten.length });
    }), runs);
  });

  it('accepts every mutant that WebAssembly.validate accepts, after validity-keeping rewrites', () => {
    fc.assert(fc.property(moduleDef, fc.array(rewriteArb, { maxLength: 3 }), mutation, (def, rewrites, m) => {
      acceptsWhatV8Accepts(mutate(rewrite(encodeModule(def), rewrites), [m]));
    }), runs);
  });

  it('only ever returns a spec or throws InvalidModuleError, for every truncation of a generated module', () => {
    fc.assert(fc.property(moduleDef, (def) => {
      const bytes = encodeModule(def);
      for (let cut = 0; cut < bytes.length; cut++) acceptsWhatV8Accepts(bytes.subarray(0, cut));
    }), { numRuns: depth(60) });
  });

  it('only ever returns a spec or throws InvalidModuleError, for random bytes after a valid header', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
      acceptsWhatV8Accepts(Uint8Array.from([...HEADER, ...tail]));
    }), runs);
  });

  describe.skipIf(realModules.length === 0)('real modules', () => {
    // Some fixtures are broken on purpose (not-wasm.wasm), so: parses exactly when V8 validates.
    it('parses every real module V8 validates, and refuses the others with InvalidModuleError', () => {
      for (const { file, bytes } of realModules) {
        expect(parsesOrRefuses(bytes), file).toBe(isValidWasm(bytes));
      }
    });

    it('only ever returns a spec or throws InvalidModuleError, and accepts what V8 accepts, for mutants of real modules', () => {
      const seeds = fc.constantFrom(...realModules.map((m) => m.bytes));
      fc.assert(fc.property(seeds, fc.array(rewriteArb, { maxLength: 2 }), fc.array(mutation, { minLength: 1, maxLength: 2 }), (bytes, rewrites, mutations) => {
        acceptsWhatV8Accepts(mutate(isValidWasm(bytes) ? rewrite(bytes, rewrites) : bytes, mutations));
      }), { numRuns: depth(200) });
    });
  });
});
