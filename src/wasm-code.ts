// Steps over wasm code instruction by instruction, immediates included, so that the module spec can
// tell which instructions a module uses without running it. An opcode it does not know stops the walk.

import { type Reader, hex } from './wasm-reader.js';

/** How a walk ended: at the expression's final `end`, or at an opcode this walker does not know. */
export type CodeWalk = { readonly complete: true } | { readonly complete: false; readonly opcode: string };

/** Called for each instruction: `sub` is the sub-opcode after a 0xfc/0xfd/0xfe prefix, else undefined. */
export type InstructionVisitor = (opcode: number, sub: number | undefined) => void;

// Immediates of the one-byte opcodes. MVP, sign extension (0xc0-0xc4), reference types (0xd0-0xd2),
// tail calls (0x12, 0x13) and exception handling (legacy try/catch/delegate, and try_table/throw_ref).
type Immediate = 'none' | 'block' | 'index' | 'two-indexes' | 'br-table' | 'select-types' | 'memarg'
  | 'i32' | 'i64' | 'f32' | 'f64' | 'heap-type' | 'try-table';
const ONE_BYTE = new Map<number, Immediate>([
  [0x00, 'none'], [0x01, 'none'], [0x02, 'block'], [0x03, 'block'], [0x04, 'block'], [0x05, 'none'],
  [0x06, 'block'], [0x07, 'index'], [0x08, 'index'], [0x09, 'index'], [0x0a, 'none'], [0x0b, 'none'],
  [0x0c, 'index'], [0x0d, 'index'], [0x0e, 'br-table'], [0x0f, 'none'], [0x10, 'index'], [0x11, 'two-indexes'],
  [0x12, 'index'], [0x13, 'two-indexes'], [0x18, 'index'], [0x19, 'none'], [0x1a, 'none'], [0x1b, 'none'],
  [0x1c, 'select-types'], [0x1f, 'try-table'],
  [0x20, 'index'], [0x21, 'index'], [0x22, 'index'], [0x23, 'index'], [0x24, 'index'], [0x25, 'index'], [0x26, 'index'],
  [0x3f, 'index'], [0x40, 'index'], [0x41, 'i32'], [0x42, 'i64'], [0x43, 'f32'], [0x44, 'f64'],
  [0xd0, 'heap-type'], [0xd1, 'none'], [0xd2, 'index'],
]);
for (let op = 0x28; op <= 0x3e; op++) ONE_BYTE.set(op, 'memarg'); // loads and stores
for (let op = 0x45; op <= 0xc4; op++) ONE_BYTE.set(op, 'none'); // numeric, sign extension

const OPENS_BLOCK = new Set([0x02, 0x03, 0x04, 0x06, 0x1f]); // block, loop, if, try, try_table
const CLOSES_BLOCK = new Set([0x0b, 0x18]); // end, delegate (which ends a legacy try)

/** 0xfc: saturating truncation (0-7), then bulk memory and tables (8-17): how many index immediates each takes. */
const MISC_INDEXES = [0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 2, 1, 2, 1, 2, 1, 1, 1];

type SimdImmediate = 'none' | 'memarg' | 'memarg-lane' | 'lane' | 'bytes16';
/** 0xfd: fixed-width SIMD (0-255, with gaps) and relaxed SIMD (256-275). */
function simdImmediate(sub: number): SimdImmediate | undefined {
  if (sub <= 11 || sub === 92 || sub === 93) return 'memarg'; // loads, splat loads, v128.store, load_zero
  if (sub === 12 || sub === 13) return 'bytes16'; // v128.const, i8x16.shuffle
  if (sub >= 21 && sub <= 34) return 'lane'; // extract_lane / replace_lane
  if (sub >= 84 && sub <= 91) return 'memarg-lane'; // load_lane / store_lane
  if (SIMD_UNASSIGNED.has(sub)) return undefined;
  return sub <= 275 ? 'none' : undefined;
}
const SIMD_UNASSIGNED = new Set([154, 162, 165, 166, 175, 176, 178, 179, 180, 187, 194, 197, 198, 207, 208, 210, 211, 212, 226, 238]);

/** 0xfe (threads): notify and waits (0-2), fence (3, one reserved byte), atomic loads, stores and rmw (0x10-0x4e). */
function atomicImmediate(sub: number): 'memarg' | 'fence' | undefined {
  if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) return 'memarg';
  return sub === 3 ? 'fence' : undefined;
}

/** A value type: one byte, or a typed reference (0x63/0x64) followed by its heap type. */
function skipValueType(r: Reader): void {
  const code = r.byte();
  if (code === 0x63 || code === 0x64) r.skipInteger(33);
}

/** A block type: empty (0x40), a value type, or a type index as a signed 33-bit integer. */
function skipBlockType(r: Reader): void {
  const code = r.bytes[r.pos];
  if (code === 0x63 || code === 0x64) skipValueType(r);
  else r.skipInteger(33);
}

function skipMemarg(r: Reader): void {
  const align = r.unsigned(32);
  if ((align & 0x40) !== 0) r.unsigned(32); // multi-memory: a memory index follows
  r.skipInteger(64); // offset (64-bit under memory64)
}

function skipImmediate(r: Reader, immediate: Immediate): void {
  switch (immediate) {
    case 'none': return;
    case 'block': return skipBlockType(r);
    case 'index': r.unsigned(32); return;
    case 'two-indexes': r.unsigned(32); r.unsigned(32); return;
    case 'br-table': for (let n = r.count('branch targets'); n >= 0; n--) r.unsigned(32); return; // targets, then default
    case 'select-types': for (let n = r.count('select types'); n > 0; n--) skipValueType(r); return;
    case 'memarg': return skipMemarg(r);
    case 'i32': r.skipInteger(32); return;
    case 'i64': r.skipInteger(64); return;
    case 'f32': r.skip(4); return;
    case 'f64': r.skip(8); return;
    case 'heap-type': r.skipInteger(33); return;
    case 'try-table':
      skipBlockType(r);
      for (let n = r.count('catch clauses'); n > 0; n--) {
        const kind = r.byte();
        if (kind > 3) r.fail(`unknown catch clause kind ${hex(kind)}`);
        if (kind < 2) r.unsigned(32); // catch and catch_ref name a tag
        r.unsigned(32); // the label
      }
  }
}

/** Steps over one prefixed instruction's immediates; false if the sub-opcode is unknown. */
function skipPrefixed(r: Reader, prefix: number, sub: number): boolean {
  if (prefix === 0xfc) {
    const indexes = MISC_INDEXES[sub];
    if (indexes === undefined) return false;
    for (let n = indexes; n > 0; n--) r.unsigned(32);
    return true;
  }
  if (prefix === 0xfd) {
    const immediate = simdImmediate(sub);
    if (immediate === undefined) return false;
    if (immediate === 'memarg' || immediate === 'memarg-lane') skipMemarg(r);
    if (immediate === 'lane' || immediate === 'memarg-lane') r.skip(1);
    if (immediate === 'bytes16') r.skip(16);
    return true;
  }
  const immediate = atomicImmediate(sub);
  if (immediate === undefined) return false;
  if (immediate === 'memarg') skipMemarg(r);
  else r.skip(1);
  return true;
}

/**
 * Walks instructions from `r.pos` through the `end` that closes the expression (a constant
 * expression or a function body's instructions), calling `visit` for each. Malformed bytes throw
 * InvalidModuleError (through the reader); an unknown opcode ends the walk, reported, never guessed.
 */
export function walkExpression(r: Reader, visit?: InstructionVisitor): CodeWalk {
  for (let depth = 1; depth > 0;) {
    const opcode = r.byte();
    if (opcode === 0xfc || opcode === 0xfd || opcode === 0xfe) {
      const sub = r.unsigned(32);
      if (!skipPrefixed(r, opcode, sub)) return { complete: false, opcode: `${hex(opcode)} ${sub}` };
      visit?.(opcode, sub);
      continue;
    }
    const immediate = ONE_BYTE.get(opcode);
    if (immediate === undefined) return { complete: false, opcode: hex(opcode) };
    skipImmediate(r, immediate);
    if (OPENS_BLOCK.has(opcode)) depth++;
    else if (CLOSES_BLOCK.has(opcode)) depth--;
    visit?.(opcode, undefined);
  }
  return { complete: true };
}

/**
 * Walks one function body: its local declarations, then its instructions, which must end exactly
 * where the body does (`r.end`).
 */
export function walkFunctionBody(r: Reader, visit?: InstructionVisitor): CodeWalk {
  for (let n = r.count('local declarations'); n > 0; n--) {
    r.unsigned(32);
    skipValueType(r);
  }
  const walk = walkExpression(r, visit);
  if (walk.complete && r.pos !== r.end) r.fail(`${r.end - r.pos} bytes after the end of the function body`);
  return walk;
}
