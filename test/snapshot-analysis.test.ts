import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModuleSpec, readModuleLayout } from '../dist/src/module-spec.js';
import type { SnapshotBlockerCode, SnapshotSpec } from '../dist/src/module-spec.js';
import { loadModule } from '../dist/src/module-source.js';
import { walkFunctionBody } from '../dist/src/wasm-code.js';
import type { CodeWalk } from '../dist/src/wasm-code.js';
import { Reader } from '../dist/src/wasm-reader.js';
import { cli } from './helpers/cli.js';
import { REACTOR, fixture } from './helpers/fixtures.js';
import { SECTION, encodeModule, isValidWasm, section, sectionRanges } from './helpers/wasm-encoder.js';
import type { ModuleDef } from './helpers/wasm-encoder.js';

const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
const snapshotOf = (bytes: Uint8Array): SnapshotSpec => parseModuleSpec(bytes).snapshot;
const codesOf = (bytes: Uint8Array): SnapshotBlockerCode[] => snapshotOf(bytes).reasons.map((r) => r.code);

// The reference reactor and the conformance modules: real toolchains' output, each must be snapshottable.
const REAL_MODULES: readonly [string, string][] = [
  ['reactor/reactor.wasm', REACTOR],
  ...['zig', 'c', 'go', 'rust', 'markdown', 'sqlite'].map((name): [string, string] => [`conformance/${name}.wasm`, fixture(`conformance/${name}.wasm`)]),
];

/** One module per blocker, each in test/fixtures/snapshot/ (built from the .wat beside it). */
const FIXTURE_BLOCKERS: readonly [string, SnapshotBlockerCode][] = [
  ['start-section', 'start-section'],
  ['passive-data', 'passive-data'],
  ['shared-memory', 'shared-memory'],
  ['memory64', 'memory64'],
  ['multiple-memories', 'multiple-memories'],
  ['imported-memory', 'imported-memory'],
  ['imported-table', 'imported-table'],
  ['imported-mutable-global', 'imported-mutable-global'],
  ['unreadable-global', 'unreadable-global'],
  ['table-init', 'mutable-table'],
  ['externref-table', 'mutable-table'],
  ['unknown-instruction', 'unknown-instruction'],
];

/** Fixtures of tables that change, which once blocked snapshots: a snapshot now holds the tables. */
const FIXTURES_POSSIBLE: readonly string[] = ['table-set', 'table-export'];

/** A module whose one function (type () -> ()) has `body`, beside a funcref table and a passive element segment. */
function withBody(body: readonly number[], extra: Partial<ModuleDef> = {}): Uint8Array {
  const bytes = encodeModule({
    types: [{ params: [], results: [] }],
    functions: [{ type: 0, body }],
    tables: [{ element: 'funcref', limits: { initial: 1 } }],
    memories: [{ initial: 1 }],
    ...extra,
  });
  // The encoder writes no element section: splice one passive, empty funcref segment before the code section.
  const code = sectionRanges(bytes).find((s) => s.id === SECTION.code);
  if (code === undefined) throw new Error('no code section');
  const element = section(SECTION.element, [1, 0x01, 0x00, 0]);
  return Uint8Array.from([...bytes.subarray(0, code.start), ...element, ...bytes.subarray(code.start)]);
}

/** Walks the one body `bytes` (locals included) and lists the opcodes visited. */
function walk(bytes: readonly number[]): { walk: CodeWalk; visited: string[] } {
  const visited: string[] = [];
  const r = new Reader(Uint8Array.from(bytes), 0, bytes.length, 'test body');
  const result = walkFunctionBody(r, (opcode, sub) => visited.push(sub === undefined ? opcode.toString(16) : `${opcode.toString(16)} ${sub}`));
  return { walk: result, visited };
}

describe('snapshot analysis: one fixture per blocker', () => {
  it.each(FIXTURE_BLOCKERS)('%s.wasm is not snapshottable: %s', (file, code) => {
    const snapshot = snapshotOf(read(fixture(`snapshot/${file}.wasm`)));
    expect(snapshot.possible).toBe(false);
    expect(snapshot.reasons.map((r) => r.code)).toEqual([code]);
    expect(snapshot.reasons[0]?.message.length).toBeGreaterThan(10);
    expect(structuredClone(snapshot)).toEqual(snapshot);
  });

  it('every fixture in test/fixtures/snapshot/ is listed above', () => {
    const files = readdirSync(fixture('snapshot')).filter((f) => f.endsWith('.wasm')).map((f) => f.slice(0, -'.wasm'.length));
    expect(files.sort()).toEqual([...FIXTURE_BLOCKERS.map(([file]) => file), ...FIXTURES_POSSIBLE].sort());
  });

  it.each(FIXTURES_POSSIBLE)('%s.wasm (its tables change) can be snapshotted; the loader exports its tables and table functions', async (file) => {
    expect(snapshotOf(read(fixture(`snapshot/${file}.wasm`)))).toEqual({ possible: true, reasons: [] });
    const { spec } = await loadModule(fixture(`snapshot/${file}.wasm`));
    expect(spec.mutableTables).toEqual([{ index: 0, exportName: file === 'table-export' ? 'callbacks' : '__rp_table_0' }]);
    expect(spec.tableFunctions).toEqual(file === 'table-export' ? [] : [{ index: 0, exportName: '__rp_func_0' }]);
  });

  it('a module whose tables never change gets no table exports', async () => {
    const { spec } = await loadModule(REACTOR);
    expect(spec.mutableTables).toBeUndefined();
    expect(spec.tableFunctions).toBeUndefined();
  });

  it('messages say what was found: the import, the instruction and where, the opcode, the global', () => {
    const message = (file: string): string => snapshotOf(read(fixture(`snapshot/${file}.wasm`))).reasons[0]?.message ?? '';
    expect(message('imported-memory')).toContain('`env.memory`');
    expect(message('imported-mutable-global')).toContain('`env.counter`');
    expect(message('table-init')).toContain('table.init in function 1, elem.drop in function 1');
    expect(message('externref-table')).toMatch(/table\.grow in function 0\), and table 0 holds externref values/);
    expect(message('unknown-instruction')).toContain('opcode 0x14');
    expect(message('unreadable-global')).toMatch(/global 0 \(v128\), global 1 \(externref\)/);
  });

  it('lists every reason, in a fixed order, one per code', () => {
    const bytes = encodeModule({
      types: [{ params: [], results: [] }],
      imports: [
        { module: 'env', name: 'memory', kind: 'memory', limits: { initial: 1, maximum: 2, shared: true } },
        { module: 'env', name: 'a', kind: 'global', type: 'i32', mutable: true },
        { module: 'env', name: 'b', kind: 'global', type: 'i64', mutable: true },
        { module: 'env', name: 'c', kind: 'global', type: 'i64', mutable: false },
      ],
      functions: [{ type: 0 }],
      tables: [{ element: 'funcref', limits: { initial: 1 } }],
      exports: [{ name: 't', kind: 'table', index: 0 }],
      start: 0,
    });
    expect(isValidWasm(bytes)).toBe(true);
    const snapshot = snapshotOf(bytes);
    expect(snapshot.reasons.map((r) => r.code)).toEqual(['start-section', 'shared-memory', 'imported-memory', 'imported-mutable-global']);
    expect(snapshot.reasons[3]?.message).toContain('`env.a`, `env.b`');
    expect(snapshot.reasons[3]?.message).not.toContain('env.c');
  });

  it('a module that came compiled cannot be analysed: no-bytes', async () => {
    const compiled = await WebAssembly.compile(readFileSync(REACTOR));
    const { spec } = await loadModule(compiled);
    expect(spec.snapshot).toEqual({ possible: false, reasons: [{ code: 'no-bytes', message: expect.stringContaining('compiled') as unknown }] });
    const fromBytes = await loadModule(REACTOR);
    expect(fromBytes.spec.snapshot).toEqual({ possible: true, reasons: [] });
  });

  it('code it cannot read makes the module unsnapshottable (unreadable-code) without refusing the module', () => {
    const truncated = encodeModule({ types: [{ params: [], results: [] }], functions: [{ type: 0, body: [0x41, 0x80] }] });
    expect(codesOf(truncated)).toEqual(['unreadable-code']);
  });
});

describe('snapshot analysis: real modules', () => {
  it.each(REAL_MODULES)('%s can be snapshotted', (_name, path) => {
    expect(snapshotOf(read(path))).toEqual({ possible: true, reasons: [] });
  });

  it.each(REAL_MODULES)('the instruction walker reads every function body of %s to its end', (_name, path) => {
    const bytes = read(path);
    const code = readModuleLayout(bytes).sections.find((s) => s.id === SECTION.code);
    if (code === undefined) throw new Error('no code section');
    const r = new Reader(bytes, code.contentStart, code.end, 'code section');
    const bodies = r.unsigned(32);
    let instructions = 0;
    const incomplete: string[] = [];
    for (let i = 0; i < bodies; i++) {
      const size = r.unsigned(32);
      const body = new Reader(bytes, r.pos, r.pos + size, `function body ${i}`);
      r.pos += size;
      // walkFunctionBody throws unless the body's final `end` is its last byte.
      const result = walkFunctionBody(body, () => { instructions++; });
      if (!result.complete) incomplete.push(`body ${i}: ${result.opcode}`);
    }
    expect(incomplete).toEqual([]);
    expect(r.pos).toBe(code.end);
    expect(instructions).toBeGreaterThan(bodies);
  });
});

describe('snapshot analysis: instructions that change tables', () => {
  const tableOps: [string, number[]][] = [
    ['table.set', [0x41, 0, 0xd0, 0x70, 0x26, 0]],
    ['table.init', [0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 12, 0, 0]],
    ['elem.drop', [0xfc, 13, 0]],
    ['table.copy', [0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 14, 0, 0]],
    ['table.grow', [0xd0, 0x70, 0x41, 1, 0xfc, 15, 0, 0x1a]],
    ['table.fill', [0x41, 0, 0xd0, 0x70, 0x41, 1, 0xfc, 17, 0]],
  ];

  const segmentOps = new Set(['table.init', 'elem.drop']);

  it.each(tableOps)('%s: a passive segment change blocks a snapshot; a funcref table change does not', (name, instructions) => {
    const bytes = withBody([0x00, ...instructions, 0x0b]);
    expect(isValidWasm(bytes)).toBe(true);
    const snapshot = snapshotOf(bytes);
    if (segmentOps.has(name)) {
      expect(snapshot.reasons.map((r) => r.code)).toEqual(['mutable-table']);
      expect(snapshot.reasons[0]?.message).toContain(`${name} in function 0`);
    } else {
      expect(snapshot).toEqual({ possible: true, reasons: [] });
    }
  });

  it.each(tableOps.filter(([name]) => !segmentOps.has(name)))('%s beside an externref table blocks a snapshot', (name, instructions) => {
    const bytes = withBody([0x00, ...instructions, 0x0b], {
      tables: [{ element: 'funcref', limits: { initial: 1 } }, { element: 'externref', limits: { initial: 1 } }],
    });
    expect(isValidWasm(bytes)).toBe(true);
    const snapshot = snapshotOf(bytes);
    expect(snapshot.reasons.map((r) => r.code)).toEqual(['mutable-table']);
    expect(snapshot.reasons[0]?.message).toContain(`${name} in function 0), and table 1 holds externref values`);
  });

  it('table.get and table.size only read: no blocker', () => {
    const bytes = withBody([0x00, 0x41, 0, 0x25, 0, 0x1a, 0xfc, 16, 0, 0x1a, 0x0b]);
    expect(isValidWasm(bytes)).toBe(true);
    expect(snapshotOf(bytes)).toEqual({ possible: true, reasons: [] });
  });
});

describe('the instruction walker', () => {
  it('steps over immediates: blocks, br_table, memargs, constants, select types, call_indirect', () => {
    const body = [
      1, 2, 0x7f, // one local declaration: 2 × i32
      0x02, 0x40, 0x03, 0x7f, 0x41, 0x7f, 0x0b, 0x1a, 0x0b, // block (loop (result i32) i32.const -1) drop
      0x41, 0x80, 0x80, 0x04, 0x0e, 2, 0, 0, 0, // i32.const 65536, br_table 0 0 0 (to the function's end)
      0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1a, // i64.const, drop
      0x43, 1, 2, 3, 4, 0x1a, 0x44, 1, 2, 3, 4, 5, 6, 7, 8, 0x1a, // f32.const, f64.const
      0x41, 0, 0x28, 2, 0x80, 0x01, 0x1a, // i32.load align=2 offset=128
      0x41, 0, 0x41, 0, 0x41, 0, 0x1c, 1, 0x7f, 0x1a, // select (result i32)
      0x41, 0, 0x11, 0, 0, // call_indirect type 0 table 0
      0x0b,
    ];
    const { walk: result, visited } = walk(body);
    expect(result).toEqual({ complete: true });
    expect(visited).toContain('e');
    expect(visited.at(-1)).toBe('b');
  });

  it('steps over SIMD immediates: memarg, v128.const and shuffle (16 bytes), lanes, load/store lane', () => {
    const v128 = new Array<number>(16).fill(0xfd); // bytes that would read as a prefix if not skipped
    const body = [0,
      0x41, 0, 0xfd, 0, 4, 0, // v128.load align=4 offset=0
      0xfd, 12, ...v128, // v128.const
      0xfd, 13, ...v128, // i8x16.shuffle
      0xfd, 21, 15, 0x1a, // i8x16.extract_lane_s 15
      0x41, 0, 0xfd, 0x0c, ...v128, 0xfd, 84, 0, 0, 3, 0x1a, // v128.load8_lane memarg lane
      0xfd, 0x9b, 0x01, // i16x8.avgr_u (155, a two-byte sub-opcode)
      0xfd, 0x80, 0x02, // i8x16.relaxed_swizzle (256)
      0x0b];
    expect(walk(body).walk).toEqual({ complete: true });
    expect(walk(body).visited).toContain('fd 155');
  });

  it('steps over threads (0xfe) memargs and atomic.fence', () => {
    const body = [0, 0x41, 0, 0xfe, 0x10, 2, 0, 0x1a, 0xfe, 3, 0, 0x41, 0, 0x41, 0, 0xfe, 0x00, 2, 0, 0x1a, 0x0b];
    expect(walk(body)).toEqual({ walk: { complete: true }, visited: ['41', 'fe 16', '1a', 'fe 3', '41', '41', 'fe 0', '1a', 'b'] });
  });

  it.each([
    ['an unassigned SIMD opcode', [0xfd, 0x9a, 0x01], '0xfd 154'],
    ['an unknown 0xfc opcode', [0xfc, 18], '0xfc 18'],
    ['an unknown threads opcode', [0xfe, 4], '0xfe 4'],
    ['a GC instruction', [0xfb, 0], '0xfb'],
    ['call_ref', [0x14, 0], '0x14'],
  ])('stops at %s and names it, never guessing', (_what, instructions, opcode) => {
    expect(walk([0, ...instructions, 0x0b]).walk).toEqual({ complete: false, opcode });
  });

  it('throws InvalidModuleError on a body that ends early or has bytes past its end', () => {
    expect(() => walk([0, 0x02, 0x40, 0x0b])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MODULE' }));
    expect(() => walk([0, 0x0b, 0x01])).toThrow(/1 bytes after the end of the function body/);
  });
});

describe('reactor-pool inspect', () => {
  it('prints whether the module could be snapshotted, and each reason why not', () => {
    const yes = cli('inspect', REACTOR);
    expect(yes.status).toBe(0);
    expect(yes.stdout).toContain('\nsnapshot: yes\n');
    const no = cli('inspect', fixture('snapshot/start-section.wasm'));
    expect(no.status).toBe(0);
    expect(no.stdout).toMatch(/^snapshot: no — start-section: it has a start function \(function 0\)/m);
    const json = JSON.parse(cli('inspect', fixture('snapshot/table-init.wasm'), '--json').stdout) as { spec: { snapshot: SnapshotSpec } };
    expect(json.spec.snapshot.reasons.map((r) => r.code)).toEqual(['mutable-table']);
  });
});
