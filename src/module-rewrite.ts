// Rewrites a module's binary so that the host can read and set every mutable global (the stack
// pointer a trap leaves lowered, whole snapshots) and, when code can change its tables, every table
// and every function that can be put in one; and finds which global is the stack pointer.

import type { ExportedIndex, ExternKind, GlobalType, ModuleLayout, ModuleSpec, MutableGlobalSpec, StackPointerSpec } from './module-spec.js';
import { readModuleLayout } from './module-spec.js';
import { InvalidModuleError } from './errors.js';
import { Reader } from './wasm-reader.js';

/** Prefixes of the exports the rewrite adds; a taken name gets `_` appended until it is free. */
const RESERVED_PREFIX = { global: '__rp_global_', table: '__rp_table_', function: '__rp_func_' } as const;
const SECTION = { custom: 0, export: 7, code: 10 } as const;
/** Known sections that must come after the export section (start, element, data count, code, data). */
const AFTER_EXPORTS = new Set([8, 9, 12, 10, 11]);
const KIND_CODE: Readonly<Record<'function' | 'table' | 'global', number>> = { function: 0x00, table: 0x01, global: 0x03 };
const GLOBAL_NAMES_SUBSECTION = 7;
/** `processed-by` / `language` values of the `producers` section that mean LLVM's stack pointer convention. */
const LLVM_TOOLS = new Set(['clang', 'rustc', 'LLVM', 'Zig']);
const OP = { globalGet: 0x23, i32Const: 0x41, i32Sub: 0x6b } as const;
const encoder = new TextEncoder();

export interface RewrittenModule {
  /** The bytes to compile: the input itself when nothing needed exporting. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The input's spec (its own exports only), with `mutableGlobals` and `stackPointer` set, and `mutableTables` and `tableFunctions` when its tables change. */
  readonly spec: ModuleSpec;
}

/**
 * Exports every mutable global the module does not export yet under a reserved name, and when code
 * can change its tables every table and every function that can be put in one, keeping every other
 * byte as it was. Throws InvalidModuleError for malformed input, as parseModuleSpec does.
 */
export function exportMutableGlobals(input: Uint8Array<ArrayBuffer>): RewrittenModule {
  const layout = readModuleLayout(input);
  if (layout.globals === undefined) {
    const stackPointer: StackPointerSpec = { found: false, reason: 'a global initialiser could not be read, so the globals are unknown' };
    return { bytes: input, spec: { ...layout.spec, stackPointer } };
  }
  const names = new ExportNames(layout);
  const mutableGlobals = globalExports(layout.globals, names);
  const tables = tableExports(layout, names);
  const bytes = names.added.length === 0 ? input : withExports(input, layout, names.added);
  const stackPointer = describeStackPointer(input, layout, layout.globals, mutableGlobals);
  return { bytes, spec: { ...layout.spec, mutableGlobals, ...tables, stackPointer } };
}

type Exportable = 'function' | 'table' | 'global';
interface AddedExport { readonly kind: Exportable; readonly index: number; readonly exportName: string }

/** The name the host reads each thing by: the module's own export, else a free reserved name, which is added. */
class ExportNames {
  readonly added: AddedExport[] = [];
  readonly #taken: Set<string>;
  // Maps and sets, not searches: a hostile module may have many globals, functions and exports.
  readonly #own = new Map<string, string>();

  constructor(layout: ModuleLayout) {
    this.#taken = new Set(layout.exports.map((e) => e.name));
    for (const e of layout.exports) {
      const key = `${e.kind} ${e.index}`;
      if (!this.#own.has(key)) this.#own.set(key, e.name);
    }
  }

  own(kind: ExternKind, index: number): string | undefined {
    return this.#own.get(`${kind} ${index}`);
  }

  of(kind: Exportable, index: number): string {
    const own = this.own(kind, index);
    if (own !== undefined) return own;
    let exportName = `${RESERVED_PREFIX[kind]}${index}`;
    while (this.#taken.has(exportName)) exportName += '_';
    this.#taken.add(exportName);
    this.added.push({ kind, index, exportName });
    return exportName;
  }
}

/** Each mutable global with the export the host reads it by (none for v128). */
function globalExports(globals: readonly GlobalType[], names: ExportNames): MutableGlobalSpec[] {
  const result: MutableGlobalSpec[] = [];
  globals.forEach(({ type, mutable, imported }, index) => {
    if (!mutable) return;
    const exportName = type === 'v128' ? names.own('global', index) : names.of('global', index);
    result.push(exportName === undefined ? { index, type, imported } : { index, type, imported, exportName });
  });
  return result;
}

/**
 * When tables change: every table, and every function of the module's own (not imported: a host
 * function in a table cannot be snapshotted) that can be put in one, with their exports.
 */
function tableExports(layout: ModuleLayout, names: ExportNames): Pick<ModuleSpec, 'mutableTables' | 'tableFunctions'> {
  if (layout.changingTables === undefined) return {};
  const imported = layout.spec.imports.filter((i) => i.kind === 'function').length;
  const mutableTables: ExportedIndex[] = layout.tables.map((_table, index) => ({ index, exportName: names.of('table', index) }));
  const tableFunctions: ExportedIndex[] = layout.changingTables.functions
    .filter((index) => index >= imported)
    .map((index) => ({ index, exportName: names.of('function', index) }));
  return { mutableTables, tableFunctions };
}

/** The module with `added` appended to its export section (made if it has none), every other section as it was. */
function withExports(bytes: Uint8Array, layout: ModuleLayout, added: readonly AddedExport[]): Uint8Array<ArrayBuffer> {
  const entries = added.flatMap((e) => [...encodeName(e.exportName), KIND_CODE[e.kind], ...uleb(e.index)]);
  const existing = layout.sections.find((s) => s.id === SECTION.export);
  let content: Uint8Array;
  let cut: { start: number; end: number };
  if (existing === undefined) {
    content = Uint8Array.from([...uleb(added.length), ...entries]);
    const next = layout.sections.find((s) => AFTER_EXPORTS.has(s.id));
    const at = next?.start ?? bytes.length;
    cut = { start: at, end: at };
  } else {
    const r = new Reader(bytes, existing.contentStart, existing.end, 'export section');
    const count = r.unsigned(32);
    content = concat([Uint8Array.from(uleb(count + added.length)), bytes.subarray(r.pos, existing.end), Uint8Array.from(entries)]);
    cut = existing;
  }
  const section = concat([Uint8Array.from([SECTION.export, ...uleb(content.length)]), content]);
  return concat([bytes.subarray(0, cut.start), section, bytes.subarray(cut.end)]);
}

function describeStackPointer(
  bytes: Uint8Array, layout: ModuleLayout, globals: readonly GlobalType[], mutableGlobals: readonly MutableGlobalSpec[],
): StackPointerSpec {
  const found = (index: number, foundBy: 'name' | 'producers' | 'prologue'): StackPointerSpec => {
    const exportName = mutableGlobals.find((g) => g.index === index)?.exportName;
    return exportName === undefined || globals[index]?.type !== 'i32'
      ? { found: false, reason: `global ${index} would be the stack pointer, but it is not a mutable i32` }
      : { found: true, index, foundBy, exportName };
  };
  const names = globalNames(bytes, layout);
  for (const [index, name] of names) if (name === '__stack_pointer') return found(index, 'name');
  const tools = producers(bytes, layout);
  if (tools.has('Go')) {
    return { found: false, reason: 'a Go module: its stack pointer belongs to the Go runtime, which a trap leaves unusable anyway' };
  }
  // LLVM defines __stack_pointer first, after any imported globals.
  const first = globals.findIndex((g) => !g.imported);
  const candidate = globals[first];
  if (candidate === undefined || !candidate.mutable || candidate.type !== 'i32') {
    return { found: false, reason: 'no `name` section names `__stack_pointer`, and the first defined global is not a mutable i32 (LLVM\'s layout)' };
  }
  const name = names.get(first);
  if (name !== undefined) return { found: false, reason: `no global is named \`__stack_pointer\` (global ${first} is \`${name}\`)` };
  if ([...tools].some((t) => LLVM_TOOLS.has(t))) return found(first, 'producers');
  if (opensStackFrame(bytes, layout, first)) return found(first, 'prologue');
  return {
    found: false,
    reason: `no \`name\` section names \`__stack_pointer\`, no \`producers\` section names an LLVM toolchain, and no function opens a stack frame on global ${first}`,
  };
}

/** The custom section called `name`'s content, as a reader; custom sections are never refused, so a bad one reads as absent. */
function customSection(bytes: Uint8Array, layout: ModuleLayout, name: string): Reader | undefined {
  for (const s of layout.sections) {
    if (s.id !== SECTION.custom) continue;
    const r = new Reader(bytes, s.contentStart, s.end, `${name} section`);
    if (tryRead(() => r.name()) === name) return r;
  }
  return undefined;
}

/** Global names from the `name` section (subsection 7 of the extended name section). */
function globalNames(bytes: Uint8Array, layout: ModuleLayout): Map<number, string> {
  const names = new Map<number, string>();
  const r = customSection(bytes, layout, 'name');
  if (r === undefined) return names;
  tryRead(() => {
    while (r.pos < r.end) {
      const id = r.byte();
      const size = r.unsigned(32);
      const end = r.pos + size;
      if (id === GLOBAL_NAMES_SUBSECTION) {
        for (let n = r.count('global names'); n > 0; n--) names.set(r.unsigned(32), r.name());
      }
      r.pos = end;
    }
  });
  return names;
}

/** Every language and tool the `producers` section lists (`Go`, `clang`, `rustc`...). */
function producers(bytes: Uint8Array, layout: ModuleLayout): Set<string> {
  const tools = new Set<string>();
  const r = customSection(bytes, layout, 'producers');
  if (r === undefined) return tools;
  tryRead(() => {
    for (let fields = r.count('fields'); fields > 0; fields--) {
      r.name();
      for (let values = r.count('values'); values > 0; values--) {
        tools.add(r.name());
        r.name();
      }
    }
  });
  return tools;
}

/**
 * Whether some function starts with LLVM's frame prologue on `global`: `global.get g; i32.const n;
 * i32.sub`. That is how a stack pointer is lowered; a heap pointer is only ever raised.
 */
function opensStackFrame(bytes: Uint8Array, layout: ModuleLayout, global: number): boolean {
  const code = layout.sections.find((s) => s.id === SECTION.code);
  if (code === undefined) return false;
  const r = new Reader(bytes, code.contentStart, code.end, 'code section');
  return tryRead(() => {
    for (let n = r.count('function bodies'); n > 0; n--) {
      const size = r.unsigned(32);
      const end = r.pos + size;
      const body = new Reader(bytes, r.pos, Math.min(end, code.end), 'function body');
      if (tryRead(() => startsWithPrologue(body, global)) === true) return true;
      r.pos = end;
    }
    return false;
  }) === true;
}

function startsWithPrologue(body: Reader, global: number): boolean {
  for (let groups = body.count('local groups'); groups > 0; groups--) {
    body.unsigned(32);
    const type = body.byte();
    // (ref null ht) / (ref ht): a heap type follows.
    if (type === 0x63 || type === 0x64) body.skipInteger(33);
  }
  if (body.byte() !== OP.globalGet || body.unsigned(32) !== global || body.byte() !== OP.i32Const) return false;
  body.skipInteger(32);
  return body.byte() === OP.i32Sub;
}

/** Runs a read of optional information; a malformed read gives undefined instead of refusing the module. */
function tryRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof InvalidModuleError) return undefined;
    throw error;
  }
}

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function encodeName(name: string): number[] {
  const utf8 = encoder.encode(name);
  return [...uleb(utf8.length), ...utf8];
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
