// Reading the WebAssembly binary format: one bounded reader per section, whose every failure is an
// InvalidModuleError that says where it is. Shared by the spec parser and the module rewrite.

import { InvalidModuleError } from './errors.js';

// ignoreBOM keeps a leading U+FEFF in names, so that distinct names never decode equal.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export const hex = (byte: number): string => `0x${byte.toString(16).padStart(2, '0')}`;

export function invalid(message: string): never {
  throw new InvalidModuleError(`invalid module: ${message}`);
}

/** Reads one section, so that every failure can say where it is ("type section at byte 10"). */
export class Reader {
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number, readonly where: string) {}

  fail(message: string, at: number = this.pos): never {
    return invalid(`${this.where} at byte ${at}: ${message}`);
  }

  byte(): number {
    const value = this.bytes[this.pos];
    if (value === undefined || this.pos >= this.end) this.fail(`unexpected end of ${this.where}`);
    this.pos++;
    return value;
  }

  /** LEB128 bounded as the spec says, so we refuse nothing V8 accepts. Above 2^53 (only memory64 limits) precision is lost. */
  unsigned(bits: 32 | 64): number {
    const start = this.pos;
    const lastShift = bits === 32 ? 28 : 63;
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      if (shift === lastShift && b >= 1 << (bits - lastShift)) this.fail(`integer does not fit in ${bits} bits`, start);
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
  }

  /** A vector length; every entry takes at least one byte, so a longer count is a lie we refuse before looping. */
  count(what: string): number {
    const at = this.pos;
    const n = this.unsigned(32);
    if (n > this.end - this.pos) this.fail(`${n} ${what} declared but only ${this.end - this.pos} bytes remain`, at);
    return n;
  }

  name(): string {
    const at = this.pos;
    const length = this.count('name bytes');
    const raw = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail('name is not valid UTF-8', at);
    }
  }

  index(what: string, limit: number): number {
    const at = this.pos;
    const i = this.unsigned(32);
    const plural = limit === 1 ? what : what === 'memory' ? 'memories' : `${what}s`;
    if (i >= limit) this.fail(`${what} index ${i} out of range (${limit} ${plural})`, at);
    return i;
  }

  /** Steps over a signed or unsigned LEB128 of at most `bits` bits (its value is not needed). */
  skipInteger(bits: 32 | 33 | 64): void {
    const start = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    for (let n = 1; (this.byte() & 0x80) !== 0; n++) {
      if (n === maxBytes) this.fail(`integer longer than ${maxBytes} bytes`, start);
    }
  }

  /** Steps over `count` bytes. */
  skip(count: number): void {
    if (count > this.end - this.pos) this.fail(`unexpected end of ${this.where}`);
    this.pos += count;
  }
}
