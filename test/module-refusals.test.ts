import { describe, expect, it } from 'vitest';
import {
  InvalidModuleError, ModuleNotFoundError, NotAReactorError, ReactorPool, UnsupportedImportError,
} from '../dist/src/index.js';
import { fixture } from './helpers/fixtures.js';
import { rejection } from './helpers/pool.js';

describe('modules refused up front', () => {
  it('ERR_MODULE_NOT_FOUND for a missing file, naming the path', async () => {
    const error = await rejection(ReactorPool.create({ module: fixture('missing.wasm') }));
    expect(error).toBeInstanceOf(ModuleNotFoundError);
    expect(error.code).toBe('ERR_MODULE_NOT_FOUND');
    expect(error.message).toContain('missing.wasm');
    expect(error.message).toContain('ENOENT');
  });

  it('ERR_INVALID_MODULE for bytes that are not wasm', async () => {
    const error = await rejection(ReactorPool.create({ module: fixture('not-wasm.wasm') }));
    expect(error).toBeInstanceOf(InvalidModuleError);
    expect(error.code).toBe('ERR_INVALID_MODULE');
  });

  it('ERR_INVALID_MODULE for a reactor without an exported memory', async () => {
    const error = await rejection(ReactorPool.create({ module: fixture('no-memory.wasm') }));
    expect(error.code).toBe('ERR_INVALID_MODULE');
    expect(error.message).toMatch(/memory/);
  });

  it('ERR_NOT_A_REACTOR for a WASI command (exports _start)', async () => {
    const error = await rejection(ReactorPool.create({ module: fixture('command.wasm') }));
    expect(error).toBeInstanceOf(NotAReactorError);
    expect(error.code).toBe('ERR_NOT_A_REACTOR');
    expect(error.message).toContain('_start');
  });

  it('ERR_UNSUPPORTED_IMPORT names every import outside wasi_snapshot_preview1', async () => {
    const error = await rejection(ReactorPool.create({ module: fixture('env-import.wasm') }));
    expect(error).toBeInstanceOf(UnsupportedImportError);
    expect(error.code).toBe('ERR_UNSUPPORTED_IMPORT');
    expect(error.message).toContain('env.host_add');
  });

  it('refuses the same modules when given already compiled', async () => {
    const { readFile } = await import('node:fs/promises');
    const compiled = await WebAssembly.compile(await readFile(fixture('command.wasm')));
    expect((await rejection(ReactorPool.create({ module: compiled }))).code).toBe('ERR_NOT_A_REACTOR');
  });

  it('runs a reactor that has no _initialize at all', async () => {
    const pool = await ReactorPool.create({ module: fixture('no-init.wasm'), workers: 1 });
    try {
      expect(await pool.session('k').call('inc', 1)).toBe(21);
    } finally {
      await pool.close();
    }
  });
});
