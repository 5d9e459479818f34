// Real-world reactor: an in-memory SQLite database per instance (rusqlite with its bundled SQLite,
// test/fixtures/conformance/sqlite/). Every session has its own database; SQL errors are results,
// not lost sessions; a panic is a trap, survived with 'keep' and wiped clean with 'reset'.

import { describe, expect, it } from 'vitest';
import { seeded } from '../../dist/src/seeded-random.js';
import { fixture, OutputCollector } from '../helpers/fixtures.js';
import { createPool, rejection } from '../helpers/pool.js';
import { asNumber } from '../helpers/results.js';

const SQLITE = fixture('conformance/sqlite.wasm');

describe('sqlite reactor (rusqlite, bundled SQLite)', () => {
  it('gives 200 sessions 200 databases: each sees exactly its own rows', async () => {
    const pool = await createPool({ module: SQLITE, workers: 2 });
    const random = seeded(200);
    const sessions = Array.from({ length: 200 }, (_, i) => ({
      key: `db-${i}`,
      values: Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * 1e9) - 5e8),
    }));
    await Promise.all(sessions.map(async ({ key, values }) => {
      const sql = pool.session(key).with({ result: 'string' });
      const rows = values.map((n, row) => `('${key}', ${row}, ${n})`).join(', ');
      expect(await sql.call('exec', `CREATE TABLE t(owner TEXT, row INTEGER, n INTEGER); INSERT INTO t VALUES ${rows};`)).toBe('');
    }));
    // Read back after every session has written: nothing crossed over.
    await Promise.all(sessions.map(async ({ key, values }) => {
      const sql = pool.session(key).with({ result: 'string' });
      expect(await sql.call('exec', 'SELECT owner, row, n FROM t ORDER BY row')).toBe(
        values.map((n, row) => `["${key}",${row},${n}]\n`).join(''));
      expect(await sql.call('exec', 'SELECT count(DISTINCT owner), sum(n) FROM t')).toBe(
        `[1,${values.reduce((sum, n) => sum + n, 0)}]\n`);
    }));
  });

  it('returns every SQLite type as JSON, one array per row', async () => {
    const pool = await createPool({ module: SQLITE, workers: 1 });
    const sql = pool.session('types').with({ result: 'string' });
    expect(await sql.call('exec', "SELECT 1, -9223372036854775808, 1.5, 1e300, 9e999, NULL, x'00ff', 'Zoë \"🌍\"\n\\'||char(1)"))
      .toBe('[1,-9223372036854775808,1.5,1e300,1e999,null,{"blob":"00ff"},"Zoë \\"🌍\\"\\n\\\\\\u0001"]\n');
    expect(await sql.call('exec', "SELECT json_object('a', 1)")).toBe('["{\\"a\\":1}"]\n');
    expect(await sql.call('exec', 'SELECT 1 WHERE 0')).toBe('');
  });

  it('answers an SQL error with an error result, keeping the session and its database', async () => {
    const pool = await createPool({ module: SQLITE, workers: 1 });
    const sql = pool.session('errors').with({ result: 'string' });
    expect(await sql.call('exec', "CREATE TABLE t(x); INSERT INTO t VALUES ('kept')")).toBe('');
    expect(await sql.call('exec', 'SELEKT 1')).toBe('error: near "SELEKT": syntax error in SELEKT 1 at offset 0');
    expect(await sql.call('exec', 'SELECT * FROM missing')).toBe('error: no such table: missing');
    // Statements before the failing one keep their effects, as with sqlite3_exec.
    // (SQLite quotes the failing statement from where the previous one ended, space included.)
    expect(await sql.call('exec', "INSERT INTO t VALUES ('also'); SELECT nope FROM t")).toBe('error: no such column: nope in  SELECT nope FROM t at offset 8');
    expect(await sql.call('exec', new Uint8Array([0x53, 0xff]))).toBe('error: the SQL is not valid UTF-8');
    expect(await sql.call('exec', 'SELECT x FROM t')).toBe('["kept"]\n["also"]\n');
  });

  it('answers hostile SQL with error results, not traps: no extensions, no files, SQLite limits hold', async () => {
    const pool = await createPool({ module: SQLITE, workers: 1 });
    const session = pool.session('hostile');
    const sql = session.with({ result: 'string' });
    const hostile: readonly (readonly [sql: string, result: string])[] = [
      ["SELECT load_extension('x')", "error: no such function: load_extension in SELECT load_extension('x') at offset 7"],
      ["ATTACH 'x.db' AS x", 'error: unable to open database: x.db'], // no preopened directory
      ["VACUUM INTO 'y.db'", 'error: unable to open database: y.db'],
      [`SELECT ${'abs('.repeat(200)}1${')'.repeat(200)}`, 'error: Expression tree is too large (maximum depth 100)'],
      ['CREATE TABLE a(x); CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO a VALUES (new.x + 1); END; ' +
        'PRAGMA recursive_triggers = 1; INSERT INTO a VALUES (1)', 'error: triggers nested too deep'],
      ['SELECT length(zeroblob(2000000000))', 'error: string or blob too big'],
      ['SELECT 1; SELECT', 'error: incomplete input'],
    ];
    for (const [text, result] of hostile) expect(await sql.call('exec', text)).toBe(result);
    expect(session.lost).toBe(false);
    expect(await sql.call('exec', 'SELECT count(*) FROM a')).toBe('[0]\n'); // the failed INSERT left nothing
  });

  it('reports a panic as ERR_REACTOR_TRAP and keeps the database (onTrap: keep)', async () => {
    const stderr = new OutputCollector();
    const pool = await createPool({ module: SQLITE, workers: 1, stderr: stderr.callback });
    const session = pool.session('panic');
    const sql = session.with({ result: 'string' });
    expect(await sql.call('exec', 'CREATE TABLE t(x); INSERT INTO t VALUES (42)')).toBe('');
    const trap = await rejection(session.call('panic_now'));
    expect(trap).toMatchObject({ code: 'ERR_REACTOR_TRAP', exportName: 'panic_now', sessionKey: 'panic' });
    expect(stderr.of('panic')).toContain('panic_now: the host asked for a panic');
    expect(session.lost).toBe(false);
    expect(await sql.call('exec', 'SELECT x FROM t')).toBe('[42]\n');
  });

  it('still answers SELECT 1 after 1,000 kept panics (onTrap: keep)', async () => {
    // A trap skips the epilogues that give back the stack; the instance must still have its whole
    // stack afterwards. (1,000, not 100: each panic here strands about 700 bytes of the 128 KiB
    // stack, so without the host restoring __stack_pointer SELECT 1 fails from about the 185th.)
    const pool = await createPool({ module: SQLITE, workers: 1 });
    const session = pool.session('panics');
    const sql = session.with({ result: 'string' });
    expect(await sql.call('exec', 'SELECT 1')).toBe('[1]\n');
    for (let i = 0; i < 1000; i++) expect((await rejection(session.call('panic_now'))).code).toBe('ERR_REACTOR_TRAP');
    expect(await sql.call('exec', 'SELECT 1')).toBe('[1]\n');
  });

  it("gives a fresh, empty database after a panic with onTrap: 'reset'", async () => {
    const pool = await createPool({ module: SQLITE, workers: 1, onTrap: 'reset' });
    const session = pool.session('reset');
    const sql = session.with({ result: 'string' });
    expect(await sql.call('exec', 'CREATE TABLE t(x); INSERT INTO t VALUES (1); SELECT count(*) FROM t')).toBe('[1]\n');
    expect((await rejection(session.call('panic_now'))).code).toBe('ERR_REACTOR_TRAP');
    expect(await sql.call('exec', 'SELECT count(*) FROM sqlite_schema')).toBe('[0]\n');
    expect(await sql.call('exec', 'SELECT * FROM t')).toBe('error: no such table: t');
  });

  it('frees every result, empty ones included: live allocations back at baseline', async () => {
    const pool = await createPool({ module: SQLITE, workers: 1 });
    const session = pool.session('leaks');
    const sql = session.with({ result: 'string' });
    expect(await sql.call('exec', 'CREATE TABLE t(x); SELECT 1')).toBe('[1]\n');
    const baseline = await session.call('live_allocations').then(asNumber);
    for (let i = 0; i < 100; i++) {
      expect(await sql.call('exec', `SELECT ${i}`)).toBe(`[${i}]\n`);
      expect(await sql.call('exec', `INSERT INTO t VALUES (${i})`)).toBe(''); // no rows: an empty result
    }
    expect(await session.call('live_allocations')).toBe(baseline);
  });
});
