// A tiny WebAssembly binary encoder, so tests can build exact modules without a toolchain.
// Encodes what it is given, valid or not: tests that need invalid modules build them here too.

import type { ExternKind, ValueType } from '../../src/module-spec.js';

export interface FuncType { readonly params: readonly ValueType[]; readonly results: readonly ValueType[] }
export interface Limits { readonly initial: number; readonly maximum?: number; readonly shared?: boolean; readonly memory64?: boolean }
export type ImportDesc =
  | { readonly kind: 'function'; readonly type: number }
  | { readonly kind: 'table'; readonly element: 'funcref' | 'externref'; readonly limits: Limits }
  | { readonly kind: 'memory'; readonly limits: Limits }
  | { readonly kind: 'global'; readonly type: ValueType; readonly mutable?: boolean }
  | { readonly kind: 'tag'; readonly type: number };
export type Import = { readonly module: string; readonly name: string } & ImportDesc;
/** A defined function; `body` is its instructions up to and including `end` (default: zero values for its results). */
export interface Func { readonly type: number; readonly body?: readonly number[] }
export interface Export { readonly name: string; readonly kind: ExternKind; readonly index: number }
export interface ModuleDef {
  readonly types?: readonly FuncType[];
  readonly imports?: readonly Import[];
  readonly functions?: readonly Func[];
  readonly tables?: readonly { readonly element: 'funcref' | 'externref'; readonly limits: Limits }[];
  readonly memories?: readonly Limits[];
  readonly tags?: readonly number[];
  readonly globals?: readonly { readonly type: 'i32' | 'i64' | 'f32' | 'f64'; readonly mutable?: boolean }[];
  readonly exports?: readonly Export[];
  readonly start?: number;
  readonly customSections?: readonly { readonly name: string; readonly bytes: readonly number[] }[];
}

export const SECTION = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7,
  start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const;
export const VALUE_TYPE_CODES: Readonly<Record<ValueType, number>> = {
  i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f,
};
export const KIND_CODES: Readonly<Record<ExternKind, number>> = { function: 0, table: 1, memory: 2, global: 3, tag: 4 };
export const op = { end: 0x0b, localGet: 0x20, i32Const: 0x41, i64Const: 0x42, f32Const: 0x43, f64Const: 0x44, drop: 0x1a } as const;
export const HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Unsigned LEB128, padded to at least `width` bytes (the format allows padding up to the type's maximum). */
export function uleb(value: number | bigint, width = 1): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v === 0n && out.length + 1 >= width ? byte : byte | 0x80);
  } while (v !== 0n || out.length < width);
  return out;
}

export function sleb(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

export const utf8 = (text: string): number[] => Array.from(new TextEncoder().encode(text));
export const name = (text: string): number[] => [...uleb(utf8(text).length), ...utf8(text)];
export const vec = <T>(items: readonly T[], encode: (item: T) => number[]): number[] => [...uleb(items.length), ...items.flatMap(encode)];
export const section = (id: number, content: readonly number[]): number[] => [id, ...uleb(content.length), ...content];
export const funcType = (t: FuncType): number[] =>
  [0x60, ...vec(t.params, (p) => [VALUE_TYPE_CODES[p]]), ...vec(t.results, (r) => [VALUE_TYPE_CODES[r]])];

export function limits(l: Limits): number[] {
  const flags = (l.maximum === undefined ? 0 : 1) | (l.shared === true ? 2 : 0) | (l.memory64 === true ? 4 : 0);
  return [flags, ...uleb(l.initial), ...(l.maximum === undefined ? [] : uleb(l.maximum))];
}

function importDesc(d: ImportDesc): number[] {
  switch (d.kind) {
    case 'function': return [0x00, ...uleb(d.type)];
    case 'table': return [0x01, VALUE_TYPE_CODES[d.element], ...limits(d.limits)];
    case 'memory': return [0x02, ...limits(d.limits)];
    case 'global': return [0x03, VALUE_TYPE_CODES[d.type], d.mutable === true ? 1 : 0];
    case 'tag': return [0x04, 0x00, ...uleb(d.type)];
  }
}

/** The instructions that push a zero of this type. */
export function zeroOf(type: ValueType): number[] {
  switch (type) {
    case 'i32': return [op.i32Const, 0];
    case 'i64': return [op.i64Const, 0];
    case 'f32': return [op.f32Const, 0, 0, 0, 0];
    case 'f64': return [op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0];
    case 'v128': return [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
    case 'funcref': return [0xd0, 0x70];
    case 'externref': return [0xd0, 0x6f];
  }
}

function functionBody(def: ModuleDef, f: Func): number[] {
  const results = def.types?.[f.type]?.results ?? [];
  const code = [0x00, ...(f.body ?? [...results.flatMap(zeroOf), op.end])]; // 0x00: no locals
  return [...uleb(code.length), ...code];
}

/** Encodes a module; sections appear only when their list is non-empty, in the order the spec requires. */
export function encodeModule(def: ModuleDef): Uint8Array {
  const optional = (id: number, items: readonly unknown[] | undefined, content: () => number[]): number[] =>
    items === undefined || items.length === 0 ? [] : section(id, content());
  const functions = def.functions ?? [];
  const bytes = [
    ...HEADER,
    ...optional(SECTION.type, def.types, () => vec(def.types ?? [], funcType)),
    ...optional(SECTION.import, def.imports, () => vec(def.imports ?? [], (i) => [...name(i.module), ...name(i.name), ...importDesc(i)])),
    ...optional(SECTION.function, functions, () => vec(functions, (f) => uleb(f.type))),
    ...optional(SECTION.table, def.tables, () => vec(def.tables ?? [], (t) => [VALUE_TYPE_CODES[t.element], ...limits(t.limits)])),
    ...optional(SECTION.memory, def.memories, () => vec(def.memories ?? [], limits)),
    ...optional(SECTION.tag, def.tags, () => vec(def.tags ?? [], (t) => [0x00, ...uleb(t)])),
    ...optional(SECTION.global, def.globals, () => vec(def.globals ?? [], (g) => [VALUE_TYPE_CODES[g.type], g.mutable === true ? 1 : 0, ...zeroOf(g.type), op.end])),
    ...optional(SECTION.export, def.exports, () => vec(def.exports ?? [], (e) => [...name(e.name), KIND_CODES[e.kind], ...uleb(e.index)])),
    ...(def.start === undefined ? [] : section(SECTION.start, uleb(def.start))),
    ...optional(SECTION.code, functions, () => vec(functions, (f) => functionBody(def, f))),
    ...(def.customSections ?? []).flatMap((c) => section(SECTION.custom, [...name(c.name), ...c.bytes])),
  ];
  return Uint8Array.from(bytes);
}

/** A minimal valid reactor: imports the given functions, exports `memory` and the given functions (each returning zeros). */
export function reactorModule(
  functions: Readonly<Record<string, FuncType>> = {},
  imports: readonly { readonly module: string; readonly name: string; readonly type: FuncType }[] = [],
): Uint8Array {
  const entries = Object.entries(functions);
  return encodeModule({
    types: [...imports.map((i) => i.type), ...entries.map(([, t]) => t)],
    imports: imports.map((i, type): Import => ({ module: i.module, name: i.name, kind: 'function', type })),
    functions: entries.map((_, i) => ({ type: imports.length + i })),
    memories: [{ initial: 1 }],
    exports: [
      { name: 'memory', kind: 'memory', index: 0 },
      ...entries.map(([exportName], i): Export => ({ name: exportName, kind: 'function', index: imports.length + i })),
    ],
  });
}

/** Where each section lies: `start` is its id byte, `contentStart` its first content byte. */
export function sectionRanges(bytes: Uint8Array): { id: number; start: number; contentStart: number; end: number }[] {
  const ranges: { id: number; start: number; contentStart: number; end: number }[] = [];
  for (let pos = 8; pos < bytes.length;) {
    const start = pos;
    const id = bytes[pos++] ?? 0;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[pos++] ?? 0;
      size += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
    }
    ranges.push({ id, start, contentStart: pos, end: pos + size });
    pos += size;
  }
  return ranges;
}

// Typed locally because the project's lib settings do not declare WebAssembly.
export interface WasmInstance { readonly exports: Record<string, unknown> }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => WasmInstance;
}
const wasm = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** `WebAssembly.validate`. */
export function isValidWasm(bytes: Uint8Array): boolean {
  return wasm().validate(bytes);
}

/** Compiles and instantiates synchronously (fine for the tiny modules built here). */
export function instantiate(bytes: Uint8Array, imports: object = {}): WasmInstance {
  return new (wasm().Instance)(new (wasm().Module)(bytes), imports);
}
