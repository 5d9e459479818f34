// What the pool learns from a wasm binary before it runs it: signatures, imports, memory, exec model.
// The JS API hides function signatures, so we read them from the binary format ourselves.

import { InvalidModuleError, NotAReactorError, UnsupportedImportError } from './errors.js';
import { analyseSnapshot, type ChangingTables, type SnapshotSpec } from './snapshot-analysis.js';
import { Reader, hex, invalid } from './wasm-reader.js';

export type { SnapshotBlocker, SnapshotBlockerCode, SnapshotSpec } from './snapshot-analysis.js';

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
export interface FunctionSignature { readonly params: readonly ValueType[]; readonly results: readonly ValueType[] }
/** `signature` is set for functions and tags. */
export interface ExportSpec { readonly name: string; readonly kind: ExternKind; readonly signature?: FunctionSignature }
/** `signature` is set for functions and tags. */
export interface ImportSpec { readonly module: string; readonly name: string; readonly kind: ExternKind; readonly signature?: FunctionSignature }
export interface MemorySpec {
  readonly initialPages: number;
  readonly maximumPages?: number;
  readonly shared: boolean;
  readonly memory64: boolean;
  /** The name it is exported under (`memory` if it has several names, else the first). */
  readonly exportName?: string;
  readonly imported: boolean;
}
export type ExecModel = 'reactor' | 'command';
/** Plain objects and arrays only: the spec is posted to worker threads. */
export interface ModuleSpec {
  readonly exports: readonly ExportSpec[];
  readonly imports: readonly ImportSpec[];
  /** The first memory (imported memories come first), if any. */
  readonly memory?: MemorySpec;
  /** `command` iff `_start` is exported, of any kind: node:wasi's `initialize()` refuses any `_start`. */
  readonly execModel: ExecModel;
  /** `_initialize` is exported as a function. */
  readonly hasInitialize: boolean;
  readonly byteLength: number;
  /**
   * The module's mutable globals, imports first (set by the pool's loader, which exports them to the
   * host; absent when the module came compiled or its globals could not be read).
   */
  readonly mutableGlobals?: readonly MutableGlobalSpec[];
  /**
   * When code (or the host, through an exported table) can change the module's tables, every table
   * with the export the host reads it by (set by the pool's loader, like `mutableGlobals`; absent when
   * the tables never change, or cannot be snapshotted anyway).
   */
  readonly mutableTables?: readonly ExportedIndex[];
  /**
   * With `mutableTables`: every function of the module that can be put in a table (the functions its
   * element segments and global initialisers name), with the export the host reads it by.
   */
  readonly tableFunctions?: readonly ExportedIndex[];
  /** Whether the pool found the stack pointer it restores after a kept trap (set by the pool's loader). */
  readonly stackPointer?: StackPointerSpec;
  /**
   * Whether a session's instance could be snapshotted (linear memory + every mutable global) and
   * restored into a fresh instance, and if not, every reason why (`no-bytes` when the module came compiled).
   */
  readonly snapshot: SnapshotSpec;
}
/**
 * A mutable global. `exportName` is the name the host reads it by: the module's own export, else a
 * reserved `__rp_global_<index>` the loader adds (never callable, never listed in `exports`);
 * absent for v128 globals, which JS cannot read.
 */
/** A table or function and the name it is exported under: its own export, else a reserved `__rp_table_<index>` / `__rp_func_<index>`. */
export interface ExportedIndex { readonly index: number; readonly exportName: string }
export interface MutableGlobalSpec { readonly index: number; readonly type: ValueType; readonly imported: boolean; readonly exportName?: string }
/**
 * The stack pointer of a C/C++/Rust/Zig (LLVM) module, which a trap leaves lowered. `foundBy`:
 * its name in the `name` section, LLVM's convention in a module whose `producers` section names an
 * LLVM toolchain, or (stripped modules) LLVM's frame prologue on the first defined global.
 */
export type StackPointerSpec =
  | { readonly found: true; readonly index: number; readonly foundBy: 'name' | 'producers' | 'prologue'; readonly exportName: string }
  | { readonly found: false; readonly reason: string };

/** `(i32, i64) -> i32` */
export function formatSignature(signature: FunctionSignature | undefined): string {
  if (signature === undefined) return '(?)';
  const results = signature.results.length === 0 ? '()' : signature.results.join(', ');
  return `(${signature.params.join(', ')}) -> ${results}`;
}

const WASI_MODULE = 'wasi_snapshot_preview1';
const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export',
  'start', 'element', 'code', 'data', 'data count', 'tag'] as const;
// Known sections must come in this order, at most once each (tag sits between memory and global).
const SECTION_ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
const VALUE_TYPES: ReadonlyMap<number, ValueType> = new Map([
  [0x7f, 'i32'], [0x7e, 'i64'], [0x7d, 'f32'], [0x7c, 'f64'], [0x7b, 'v128'], [0x70, 'funcref'], [0x6f, 'externref'],
]);
const EXTERN_KINDS: readonly ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];
interface Limits { readonly initial: number; readonly maximum?: number; readonly shared: boolean; readonly is64: boolean }

/** Index spaces list imports first, then definitions, as the binary format defines. */
interface State {
  readonly types: FunctionSignature[];
  readonly functions: FunctionSignature[];
  readonly memories: (Limits & { readonly imported: boolean })[];
  /** Every table's element type, imports first. */
  readonly tables: TableType[];
  globals: number;
  /** Type of each global, while every initialiser so far could be stepped over (else undefined). */
  globalTypes: GlobalType[] | undefined;
  readonly tags: FunctionSignature[];
  readonly imports: ImportSpec[];
  readonly exports: { readonly name: string; readonly kind: ExternKind; readonly index: number }[];
}

function readValueType(r: Reader): ValueType {
  const at = r.pos;
  const code = r.byte();
  const type = VALUE_TYPES.get(code);
  if (type !== undefined) return type;
  // Typed references, GC and exnref share this range: well-formed, just not something we can describe.
  const fromProposal = code >= 0x63 && code <= 0x74;
  return r.fail(`${fromProposal ? 'unsupported' : 'unknown'} value type ${hex(code)}`, at);
}

function readExternKind(r: Reader, what: 'import' | 'export'): ExternKind {
  const at = r.pos;
  const code = r.byte();
  return EXTERN_KINDS[code] ?? r.fail(`unknown ${what} kind ${hex(code)}`, at);
}

function readTypeIndex(r: Reader, state: State): FunctionSignature {
  return state.types[r.index('type', state.types.length)] as FunctionSignature;
}

/** A table: its element type, and whether it is imported. */
export interface TableType { readonly element: 'funcref' | 'externref'; readonly imported: boolean }

function readTableType(r: Reader, imported: boolean): TableType {
  const at = r.pos;
  const element = readValueType(r);
  if (element !== 'funcref' && element !== 'externref') r.fail(`table element type must be a reference, got ${element}`, at);
  readLimits(r);
  return { element, imported };
}

function readLimits(r: Reader): Limits {
  const at = r.pos;
  const flags = r.byte();
  if (flags > 0x07) r.fail(`unknown limits flags ${hex(flags)}`, at);
  const is64 = (flags & 0x04) !== 0;
  const initial = r.unsigned(is64 ? 64 : 32);
  const limits = { initial, shared: (flags & 0x02) !== 0, is64 };
  return (flags & 0x01) === 0 ? limits : { ...limits, maximum: r.unsigned(is64 ? 64 : 32) };
}

export interface GlobalType { readonly type: ValueType; readonly mutable: boolean; readonly imported: boolean }

function readGlobalType(r: Reader, imported: boolean): GlobalType {
  const type = readValueType(r);
  const at = r.pos;
  const mutability = r.byte();
  if (mutability > 1) r.fail(`unknown global mutability ${hex(mutability)}`, at);
  return { type, mutable: mutability === 1, imported };
}

const CONST_EXTENDED_ARITHMETIC = new Set([0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e]);

/** Steps over a constant expression; false at an instruction it does not know (the compiler judges it). */
function skipConstExpr(r: Reader): boolean {
  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x0b: return true; // end
      case 0x41: case 0x23: case 0xd2: r.skipInteger(32); break; // i32.const, global.get, ref.func
      case 0x42: r.skipInteger(64); break; // i64.const
      case 0x43: r.skip(4); break; // f32.const
      case 0x44: r.skip(8); break; // f64.const
      case 0xd0: r.skipInteger(33); break; // ref.null <heap type>
      case 0xfd: // v128.const is the only SIMD instruction allowed here
        if (r.unsigned(32) !== 12) return false;
        r.skip(16);
        break;
      default: if (!CONST_EXTENDED_ARITHMETIC.has(op)) return false;
    }
  }
}

/**
 * The global section: types for the module rewrite. Initialisers (and types this parser cannot
 * describe) are the compiler's business, so anything unreadable past the count only forgets the types.
 */
function readGlobalSection(r: Reader, state: State): void {
  const count = r.count('globals');
  state.globals += count;
  const types = state.globalTypes;
  state.globalTypes = undefined;
  try {
    for (let n = count; n > 0; n--) {
      types?.push(readGlobalType(r, false));
      if (!skipConstExpr(r)) return;
    }
    if (r.pos === r.end) state.globalTypes = types;
  } catch (error) {
    if (!(error instanceof InvalidModuleError)) throw error;
  } finally {
    r.pos = r.end;
  }
}

function readTagType(r: Reader, state: State): FunctionSignature {
  const at = r.pos;
  const attribute = r.byte();
  if (attribute !== 0) r.fail(`unknown tag attribute ${hex(attribute)}`, at);
  return readTypeIndex(r, state);
}

function readTypeSection(r: Reader, state: State): void {
  for (let n = r.count('types'); n > 0; n--) {
    const at = r.pos;
    const form = r.byte();
    // rec/sub/struct/array come from the GC proposal, which the toolchains we target never emit.
    if ([0x4e, 0x50, 0x4f, 0x5f, 0x5e].includes(form)) r.fail(`unsupported type form ${hex(form)} (only function types are supported)`, at);
    if (form !== 0x60) r.fail(`expected a function type (0x60), got ${hex(form)}`, at);
    const params = Array.from({ length: r.count('parameters') }, () => readValueType(r));
    const results = Array.from({ length: r.count('results') }, () => readValueType(r));
    state.types.push({ params, results });
  }
}

function readImportSection(r: Reader, state: State): void {
  for (let n = r.count('imports'); n > 0; n--) {
    const module = r.name();
    const name = r.name();
    const kind = readExternKind(r, 'import');
    let signature: FunctionSignature | undefined;
    switch (kind) {
      case 'function': signature = readTypeIndex(r, state); state.functions.push(signature); break;
      case 'tag': signature = readTagType(r, state); state.tags.push(signature); break;
      case 'table': state.tables.push(readTableType(r, true)); break;
      case 'memory': state.memories.push({ ...readLimits(r), imported: true }); break;
      case 'global': state.globalTypes?.push(readGlobalType(r, true)); state.globals++; break;
    }
    state.imports.push(signature === undefined ? { module, name, kind } : { module, name, kind, signature });
  }
}

function readExportSection(r: Reader, state: State): void {
  const seen = new Set<string>();
  for (let n = r.count('exports'); n > 0; n--) {
    const at = r.pos;
    const name = r.name();
    if (seen.has(name)) r.fail(`duplicate export name ${JSON.stringify(name)}`, at);
    seen.add(name);
    const kind = readExternKind(r, 'export');
    const limit = { function: state.functions.length, table: state.tables.length, memory: state.memories.length,
      global: state.globals, tag: state.tags.length }[kind];
    const index = r.index(kind, limit);
    state.exports.push({ name, kind, index });
  }
}

/** Sections we have no use for (code, data, element...) are skipped whole: the compiler checks them. */
function readSection(id: number, r: Reader, state: State): void {
  switch (id) {
    case 1: return readTypeSection(r, state);
    case 2: return readImportSection(r, state);
    case 3:
      for (let n = r.count('functions'); n > 0; n--) state.functions.push(readTypeIndex(r, state));
      return;
    case 4:
      for (let n = r.count('tables'); n > 0; n--) state.tables.push(readTableType(r, false));
      return;
    case 5:
      for (let n = r.count('memories'); n > 0; n--) state.memories.push({ ...readLimits(r), imported: false });
      return;
    case 6: return readGlobalSection(r, state);
    case 7: return readExportSection(r, state);
    case 8: r.index('function', state.functions.length); return;
    case 13:
      for (let n = r.count('tags'); n > 0; n--) state.tags.push(readTagType(r, state));
      return;
    default: r.pos = r.end;
  }
}

function checkHeader(bytes: Uint8Array): void {
  if (bytes.length === 0) invalid('empty input (0 bytes)');
  const magic = bytes.subarray(0, 4);
  if (magic.some((b, i) => b !== MAGIC[i])) {
    invalid(`not a WebAssembly binary (expected magic bytes 00 61 73 6d "\\0asm", got ${Array.from(magic, (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
  }
  if (bytes.length < 8) invalid(`header truncated: ${bytes.length} bytes, a module starts with 8`);
  const version = new DataView(bytes.buffer, bytes.byteOffset + 4, 4).getUint32(0, true);
  if (version === 0x0001000d) invalid('this is a WebAssembly component, not a core module; the pool runs core WASI reactor modules');
  if (version !== 1) invalid(`unsupported binary version ${version} at byte 4 (expected 1)`);
}

/** Parses the binary. Throws InvalidModuleError (ERR_INVALID_MODULE) for anything malformed, and nothing else. */
export function parseModuleSpec(bytes: Uint8Array): ModuleSpec {
  return readModuleLayout(bytes).spec;
}

/** Where a section lies: `contentStart` is past its id and size. */
export interface SectionRange { readonly id: number; readonly start: number; readonly contentStart: number; readonly end: number }

/** The spec, plus what rewriting the binary needs: its sections, exports by index, and global types. */
export interface ModuleLayout {
  readonly spec: ModuleSpec;
  readonly sections: readonly SectionRange[];
  readonly exports: readonly { readonly name: string; readonly kind: ExternKind; readonly index: number }[];
  /** Every global's type (imports first), or undefined if an initialiser could not be read. */
  readonly globals: readonly GlobalType[] | undefined;
  /** Every table (imports first). */
  readonly tables: readonly TableType[];
  /** Set when code (or the host) can change the module's tables and a snapshot can still hold them: see {@link ChangingTables}. */
  readonly changingTables: ChangingTables | undefined;
}

/** Parses the binary as {@link parseModuleSpec} does, keeping where things are. */
export function readModuleLayout(bytes: Uint8Array): ModuleLayout {
  if (!(bytes instanceof Uint8Array)) invalid('expected the module bytes as a Uint8Array');
  checkHeader(bytes);
  const state: State = {
    types: [], functions: [], memories: [], tables: [], globals: 0, globalTypes: [], tags: [], imports: [], exports: [],
  };
  const sections: SectionRange[] = [];
  let lastRank = -1;
  let lastId = 0;
  for (let pos = 8; pos < bytes.length;) {
    const id = bytes[pos] ?? 0;
    const where = `${SECTION_NAMES[id] ?? `unknown (id ${id})`} section`;
    const header = new Reader(bytes, pos + 1, bytes.length, where);
    const size = header.unsigned(32);
    if (size > bytes.length - header.pos) {
      invalid(`${where} at byte ${pos}: extends past the end of the module (${size} bytes declared, ${bytes.length - header.pos} remain)`);
    }
    const rank = SECTION_ORDER.indexOf(id);
    if (rank !== -1 && rank <= lastRank) {
      invalid(`${where} at byte ${pos}: ${id === lastId ? 'duplicate section' : `out of order (after the ${SECTION_NAMES[lastId]} section)`}`);
    }
    if (rank !== -1) { lastRank = rank; lastId = id; }
    const r = new Reader(bytes, header.pos, header.pos + size, where);
    readSection(id, r, state);
    if (r.pos !== r.end) r.fail(`${r.end - r.pos} unexpected bytes at end of section`);
    sections.push({ id, start: pos, contentStart: header.pos, end: r.end });
    pos = r.end;
  }
  const { spec: snapshot, changingTables } = analyseSnapshot({
    bytes, sections, memories: state.memories, tables: state.tables, imports: state.imports, globals: state.globalTypes, exports: state.exports,
  });
  return {
    spec: buildSpec(state, bytes.length, snapshot), sections, exports: state.exports, globals: state.globalTypes, tables: state.tables, changingTables,
  };
}

function buildSpec(state: State, byteLength: number, snapshot: SnapshotSpec): ModuleSpec {
  const exports = state.exports.map(({ name, kind, index }): ExportSpec => {
    const signature = kind === 'function' ? state.functions[index] : kind === 'tag' ? state.tags[index] : undefined;
    return signature === undefined ? { name, kind } : { name, kind, signature };
  });
  const spec = {
    exports,
    imports: state.imports,
    execModel: exports.some((e) => e.name === '_start') ? 'command' : 'reactor',
    hasInitialize: exports.some((e) => e.name === '_initialize' && e.kind === 'function'),
    byteLength,
    snapshot,
  } as const;
  const first = state.memories[0];
  if (first === undefined) return spec;
  const names = state.exports.filter((e) => e.kind === 'memory' && e.index === 0).map((e) => e.name);
  const exportName = names.includes('memory') ? 'memory' : names[0];
  const memory: MemorySpec = {
    initialPages: first.initial,
    ...(first.maximum === undefined ? {} : { maximumPages: first.maximum }),
    shared: first.shared,
    memory64: first.is64,
    ...(exportName === undefined ? {} : { exportName }),
    imported: first.imported,
  };
  return { ...spec, memory };
}

/** Signatures of exported functions, by export name. */
export function exportedFunctions(spec: ModuleSpec): ReadonlyMap<string, FunctionSignature> {
  const map = new Map<string, FunctionSignature>();
  for (const e of spec.exports) if (e.kind === 'function' && e.signature !== undefined) map.set(e.name, e.signature);
  return map;
}

/**
 * Refuses what cannot run as a reactor in the pool, in the order node:wasi would trip over it:
 * a `_start` export, a missing `memory` export (or a non-function `_initialize`), then imports
 * nobody supplies: anything outside `wasi_snapshot_preview1` and `suppliedModules`, and non-function WASI imports.
 */
export function assertRunnableReactor(spec: ModuleSpec, suppliedModules: readonly string[] = []): void {
  if (spec.execModel === 'command') {
    throw new NotAReactorError('module is a WASI command (it exports `_start`), not a reactor: the pool needs a module that '
      + 'exports `_initialize` or no entry point, so that its instance stays alive between calls');
  }
  const memoryExport = spec.exports.find((e) => e.name === 'memory');
  if (memoryExport?.kind !== 'memory') {
    const otherName = spec.exports.find((e) => e.kind === 'memory')?.name;
    const why = memoryExport !== undefined ? `its export \`memory\` is a ${memoryExport.kind}`
      : otherName !== undefined ? `it exports its memory as \`${otherName}\``
      : spec.memory === undefined ? 'it has no memory'
      : `its memory is ${spec.memory.imported ? 'imported' : 'defined'} but not exported`;
    invalid(`node:wasi needs an exported memory named \`memory\`, but ${why}`);
  }
  const initialize = spec.exports.find((e) => e.name === '_initialize');
  if (initialize !== undefined && initialize.kind !== 'function') {
    invalid(`\`_initialize\` is exported as a ${initialize.kind}, but node:wasi calls it as a function`);
  }
  const supplied = new Set(suppliedModules);
  const refused = spec.imports
    .filter((i) => (i.module === WASI_MODULE ? i.kind !== 'function' : !supplied.has(i.module)))
    .map((i) => `\`${i.module}.${i.name}\`${i.module === WASI_MODULE ? ` (a ${i.kind}; node:wasi supplies only functions)` : ''}`);
  if (refused.length > 0) {
    const others = suppliedModules.length === 0 ? 'no `hostFunctions` option was given' : `it supplies: ${suppliedModules.map((m) => `\`${m}\``).join(', ')}`;
    throw new UnsupportedImportError(`module imports what the pool cannot supply: ${refused.join(', ')}. `
      + `Only functions from \`${WASI_MODULE}\` can be imported, and functions the pool's \`hostFunctions\` option supplies (${others})`);
  }
}
