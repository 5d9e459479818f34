// Which functions a module can ever put in a table: those its element segments name (active, passive
// or declarative, as indices or `ref.func` expressions) and those its global initialisers take with
// `ref.func`. Code can only take a reference (`ref.func`) to a function declared so, or exported.

import type { SectionRange } from './module-spec.js';
import { Reader } from './wasm-reader.js';

const SECTION = { global: 6, element: 9 } as const;
const OP = { end: 0x0b, i32Const: 0x41, i64Const: 0x42, f32Const: 0x43, f64Const: 0x44, globalGet: 0x23, refNull: 0xd0, refFunc: 0xd2 } as const;
/** i32/i64 add, sub, mul (extended constant expressions). */
const CONST_ARITHMETIC: ReadonlySet<number> = new Set([0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e]);
/** (ref null ht) / (ref ht): a heap type follows. */
const TYPED_REFERENCES: ReadonlySet<number> = new Set([0x63, 0x64]);

/**
 * The indices of every function the element and global sections name, in index order. Throws
 * InvalidModuleError (from the reader) on bytes it cannot read, or a constant expression it does not know.
 */
export function tableFunctions(bytes: Uint8Array, sections: readonly SectionRange[]): number[] {
  const found = new Set<number>();
  const element = sections.find((s) => s.id === SECTION.element);
  if (element !== undefined) readElements(new Reader(bytes, element.contentStart, element.end, 'element section'), found);
  const global = sections.find((s) => s.id === SECTION.global);
  if (global !== undefined) readGlobals(new Reader(bytes, global.contentStart, global.end, 'global section'), found);
  return [...found].sort((a, b) => a - b);
}

/** Element segments, flags 0-7: bit 0 passive or declarative, bit 1 a table index or declarative, bit 2 expressions. */
function readElements(r: Reader, found: Set<number>): void {
  for (let n = r.count('element segments'); n > 0; n--) {
    const flags = r.unsigned(32);
    if (flags > 7) r.fail(`unknown element segment flags ${flags}`);
    const active = (flags & 1) === 0;
    const expressions = (flags & 4) !== 0;
    if (active && (flags & 2) !== 0) r.unsigned(32);
    if (active) readConstant(r, found);
    // Active segments of table 0 (flags 0, 4) leave the element kind / type out.
    if (!active || (flags & 2) !== 0) {
      if (expressions) skipReferenceType(r);
      else if (r.byte() !== 0) r.fail('unknown element kind');
    }
    for (let items = r.count('elements'); items > 0; items--) {
      if (expressions) readConstant(r, found);
      else found.add(r.unsigned(32));
    }
  }
}

function readGlobals(r: Reader, found: Set<number>): void {
  for (let n = r.count('globals'); n > 0; n--) {
    skipReferenceType(r);
    r.byte();
    readConstant(r, found);
  }
}

/** Steps over a value type (any: globals hold numbers too). */
function skipReferenceType(r: Reader): void {
  if (TYPED_REFERENCES.has(r.byte())) r.skipInteger(33);
}

/** Reads a constant expression to its `end`, adding the function of each `ref.func` to `found`. */
function readConstant(r: Reader, found: Set<number>): void {
  for (;;) {
    const op = r.byte();
    switch (op) {
      case OP.end: return;
      case OP.refFunc: found.add(r.unsigned(32)); break;
      case OP.i32Const: case OP.globalGet: r.skipInteger(32); break;
      case OP.i64Const: r.skipInteger(64); break;
      case OP.f32Const: r.skip(4); break;
      case OP.f64Const: r.skip(8); break;
      case OP.refNull: r.skipInteger(33); break;
      case 0xfd:
        if (r.unsigned(32) !== 12) r.fail('a SIMD instruction other than v128.const in a constant expression');
        r.skip(16);
        break;
      default: if (!CONST_ARITHMETIC.has(op)) r.fail(`unknown instruction 0x${op.toString(16)} in a constant expression`);
    }
  }
}
