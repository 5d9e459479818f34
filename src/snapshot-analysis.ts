// Whether a session's instance could be snapshotted (linear memory, every mutable global, and its
// tables when they change) and restored into a fresh instance of the same module, and if not why, read from the binary alone.

import { InvalidModuleError } from './errors.js';
import type { ExternKind, GlobalType, ImportSpec, SectionRange, TableType } from './module-spec.js';
import { tableFunctions } from './table-functions.js';
import { walkExpression, walkFunctionBody } from './wasm-code.js';
import { Reader } from './wasm-reader.js';

/** Why a module cannot be snapshotted; stable, match on these. */
export type SnapshotBlockerCode =
  | 'no-bytes'
  | 'start-section'
  | 'passive-data'
  | 'multiple-memories'
  | 'shared-memory'
  | 'memory64'
  | 'imported-memory'
  | 'imported-table'
  | 'imported-mutable-global'
  | 'unreadable-global'
  | 'mutable-table'
  | 'unknown-instruction'
  | 'unreadable-code';

/** One reason a module cannot be snapshotted: a stable `code` and a message for people. */
export interface SnapshotBlocker { readonly code: SnapshotBlockerCode; readonly message: string }

/** `possible` iff `reasons` is empty; at most one reason per code, in the order of {@link SnapshotBlockerCode}. */
export interface SnapshotSpec { readonly possible: boolean; readonly reasons: readonly SnapshotBlocker[] }

/** What the spec parser has learned by the end of the binary, for the analysis. */
export interface SnapshotFacts {
  readonly bytes: Uint8Array;
  readonly sections: readonly SectionRange[];
  /** Every memory, imports first. */
  readonly memories: readonly { readonly shared: boolean; readonly is64: boolean; readonly imported: boolean }[];
  /** Every table, imports first. */
  readonly tables: readonly TableType[];
  readonly imports: readonly ImportSpec[];
  /** Every global's type, imports first; undefined if an initialiser could not be read. */
  readonly globals: readonly GlobalType[] | undefined;
  readonly exports: readonly { readonly name: string; readonly kind: ExternKind; readonly index: number }[];
}

/**
 * Tables that code (or the host, through an export) can change, which a snapshot must therefore
 * hold: every table then, and the functions that can be put in one (see table-functions.ts).
 */
export interface ChangingTables { readonly functions: readonly number[] }

/** The analysis, with what the module rewrite needs to know of its tables. */
export interface SnapshotAnalysis {
  readonly spec: SnapshotSpec;
  /** Set when tables can change and nothing about them blocks a snapshot. */
  readonly changingTables: ChangingTables | undefined;
}

/** The answer for a module that came compiled: without its bytes nothing can be told. */
export const SNAPSHOT_NO_BYTES: SnapshotSpec = {
  possible: false,
  reasons: [{ code: 'no-bytes', message: 'the module came compiled (a WebAssembly.Module), so its binary could not be analysed' }],
};

const SECTION = { start: 8, code: 10, data: 11 } as const;
const UNREADABLE_GLOBAL_TYPES: ReadonlySet<string> = new Set(['v128', 'funcref', 'externref']);
// Opcodes that change a table or an element segment: table.set, and 0xfc table.init, elem.drop, table.copy, table.grow, table.fill.
const TABLE_SET = 0x26;
const TABLE_MUTATIONS: ReadonlyMap<number, string> = new Map([
  [12, 'table.init'], [13, 'elem.drop'], [14, 'table.copy'], [15, 'table.grow'], [17, 'table.fill'],
]);
/** The instructions that change a passive element segment's state (used or dropped), which no snapshot holds. */
const SEGMENT_CHANGES: ReadonlySet<string> = new Set(['table.init', 'elem.drop']);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const listed = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');

/** Analyses a parsed module; never throws for code or data it cannot read (the compiler judges those). */
export function analyseSnapshot(facts: SnapshotFacts): SnapshotAnalysis {
  const found = new Map<SnapshotBlockerCode, string>();
  const block = (code: SnapshotBlockerCode, message: string): void => {
    if (!found.has(code)) found.set(code, message);
  };
  checkStart(facts, block);
  checkData(facts, block);
  checkMemories(facts, block);
  checkImports(facts, block);
  checkGlobals(facts, block);
  const tables = checkTables(facts, block);
  const order: readonly SnapshotBlockerCode[] = ['start-section', 'passive-data', 'multiple-memories', 'shared-memory',
    'memory64', 'imported-memory', 'imported-table', 'imported-mutable-global', 'unreadable-global', 'mutable-table',
    'unknown-instruction', 'unreadable-code'];
  const reasons = order.flatMap((code) => {
    const message = found.get(code);
    return message === undefined ? [] : [{ code, message }];
  });
  const possible = reasons.length === 0;
  return { spec: { possible, reasons }, changingTables: possible ? tables : undefined };
}

type Block = (code: SnapshotBlockerCode, message: string) => void;

function sectionReader(facts: SnapshotFacts, id: number, where: string): Reader | undefined {
  const section = facts.sections.find((s) => s.id === id);
  return section === undefined ? undefined : new Reader(facts.bytes, section.contentStart, section.end, where);
}

function checkStart(facts: SnapshotFacts, block: Block): void {
  const r = sectionReader(facts, SECTION.start, 'start section');
  if (r === undefined) return;
  block('start-section', `it has a start function (function ${r.unsigned(32)}), which would run again in an instance a snapshot is restored into`);
}

/** Data segments: flags 0 (active), 1 (passive), 2 (active, with a memory index). */
function checkData(facts: SnapshotFacts, block: Block): void {
  const r = sectionReader(facts, SECTION.data, 'data section');
  if (r === undefined) return;
  let passive = 0;
  try {
    for (let n = r.count('data segments'); n > 0; n--) {
      const flags = r.unsigned(32);
      if (flags > 2) r.fail(`unknown data segment flags ${flags}`);
      if (flags === 2) r.unsigned(32);
      if (flags !== 1 && !walkExpression(r).complete) r.fail('a data segment offset uses an unknown instruction');
      if (flags === 1) passive++;
      r.skip(r.count('data bytes'));
    }
  } catch (error) {
    if (!(error instanceof InvalidModuleError)) throw error;
    block('unreadable-code', `its data section could not be read: ${error.message}`);
  }
  if (passive > 0) {
    block('passive-data', `it has ${plural(passive, 'passive data segment')}: memory.init and data.drop change state outside its memory and globals`);
  }
}

function checkMemories(facts: SnapshotFacts, block: Block): void {
  const { memories } = facts;
  if (memories.length > 1) block('multiple-memories', `it has ${memories.length} memories; a snapshot holds one`);
  if (memories.some((m) => m.shared)) block('shared-memory', 'its memory is shared: other threads can change it while it is copied, and it never detaches');
  if (memories.some((m) => m.is64)) block('memory64', 'its memory is a 64-bit memory (memory64)');
}

function checkImports(facts: SnapshotFacts, block: Block): void {
  const named = (kind: ExternKind): string[] => facts.imports.filter((i) => i.kind === kind).map((i) => `${i.module}.${i.name}`);
  const memories = named('memory');
  if (memories.length > 0) block('imported-memory', `it imports its memory (${listed(memories)}): the host owns it, not the instance`);
  const tables = named('table');
  if (tables.length > 0) block('imported-table', `it imports ${tables.length === 1 ? 'a table' : 'tables'} (${listed(tables)}): the host owns ${tables.length === 1 ? 'it' : 'them'}, not the instance`);
  if (facts.globals === undefined) return;
  const importedGlobals = named('global');
  const mutable = facts.globals.filter((g) => g.imported).flatMap((g, i) => (g.mutable ? [importedGlobals[i] ?? `global ${i}`] : []));
  if (mutable.length > 0) {
    block('imported-mutable-global', `it imports mutable globals (${listed(mutable)}): the host owns their values, not the instance`);
  }
}

function checkGlobals(facts: SnapshotFacts, block: Block): void {
  if (facts.globals === undefined) {
    block('unreadable-global', 'a global initialiser could not be read, so the types of its globals are unknown');
    return;
  }
  const unreadable = facts.globals.flatMap((g, index) => (g.mutable && UNREADABLE_GLOBAL_TYPES.has(g.type) ? [`global ${index} (${g.type})`] : []));
  if (unreadable.length > 0) {
    block('unreadable-global', `JS cannot read and write ${unreadable.length === 1 ? 'this mutable global' : 'these mutable globals'} faithfully: ${unreadable.join(', ')}`);
  }
}

/**
 * Tables that change (code's table.set, table.grow, table.fill, table.copy, or an export the host can
 * change) are snapshotted whole, when every table is a funcref table of the module's own; passive
 * element segments' state (table.init, elem.drop) is not. Returns the tables' facts when they change.
 */
function checkTables(facts: SnapshotFacts, block: Block): ChangingTables | undefined {
  const exported = facts.exports.filter((e) => e.kind === 'table').map((e) => e.name);
  const r = sectionReader(facts, SECTION.code, 'code section');
  const changes = r === undefined ? new Map<string, number>() : scanCode(r, facts, block);
  const where = (names: readonly string[]): string => names.map((name) => `${name} in function ${changes.get(name)}`).join(', ');
  const segments = [...changes.keys()].filter((name) => SEGMENT_CHANGES.has(name));
  if (segments.length > 0) {
    block('mutable-table', `its code changes passive element segments (${where(segments)}), whose state a snapshot does not hold`);
  }
  const tableChanges = [...changes.keys()].filter((name) => !SEGMENT_CHANGES.has(name));
  if (exported.length === 0 && tableChanges.length === 0) return undefined;
  const why = [
    ...(exported.length > 0 ? [`it exports ${exported.length === 1 ? 'a table' : 'tables'} (${listed(exported)}), which the host could change`] : []),
    ...(tableChanges.length > 0 ? [`its code changes tables at run time (${where(tableChanges)})`] : []),
  ].join(' and ');
  const externref = facts.tables.flatMap((t, index) => (t.element === 'funcref' ? [] : [`table ${index}`]));
  if (externref.length > 0) {
    block('mutable-table', `${why}, and ${externref.join(', ')} ${externref.length === 1 ? 'holds' : 'hold'} externref values, which a snapshot cannot hold`);
    return undefined;
  }
  // Imported tables are blocked by checkImports: the host owns them.
  if (facts.tables.some((t) => t.imported)) return undefined;
  try {
    return { functions: tableFunctions(facts.bytes, facts.sections) };
  } catch (error) {
    if (!(error instanceof InvalidModuleError)) throw error;
    block('unreadable-code', `${why}, and the functions its element segments name could not be read: ${error.message}`);
    return undefined;
  }
}

/** Walks every function body; returns each table-changing instruction found, with the first function that uses it. */
function scanCode(r: Reader, facts: SnapshotFacts, block: Block): Map<string, number> {
  const importedFunctions = facts.imports.filter((i) => i.kind === 'function').length;
  const changes = new Map<string, number>();
  try {
    const count = r.count('function bodies');
    for (let i = 0; i < count; i++) {
      const index = importedFunctions + i;
      const size = r.unsigned(32);
      if (size > r.end - r.pos) r.fail(`function ${index}: body extends past the end of the section`);
      const body = new Reader(r.bytes, r.pos, r.pos + size, `code section, function ${index}`);
      r.pos += size;
      const walk = walkFunctionBody(body, (opcode, sub) => {
        const name = sub === undefined ? (opcode === TABLE_SET ? 'table.set' : undefined) : opcode === 0xfc ? TABLE_MUTATIONS.get(sub) : undefined;
        if (name !== undefined && !changes.has(name)) changes.set(name, index);
      });
      if (!walk.complete) block('unknown-instruction', `function ${index} uses opcode ${walk.opcode}, which the snapshot analysis does not know`);
    }
  } catch (error) {
    if (!(error instanceof InvalidModuleError)) throw error;
    block('unreadable-code', `its code section could not be read: ${error.message}`);
  }
  return changes;
}
