// `module` as a file: URL string (what `import.meta.resolve` gives) as well as a URL object, and the
// reference reactor reachable through the package's exports as `reactor-pool/reactor.wasm`.

import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectModule } from '../dist/src/index.js';
import { REACTOR } from './helpers/fixtures.js';
import { createPool, rejection } from './helpers/pool.js';

const ROOT = new URL('../', import.meta.url);

describe('module given as a file: URL', () => {
  it('takes a file: URL string as the file it names, like a URL object', async () => {
    const href = pathToFileURL(REACTOR).href;
    expect(href).toMatch(/^file:\/\//);
    const fromString = await createPool({ module: href, workers: 1 });
    expect(await fromString.session('a').call('inc', 1)).toBe(21);
    const fromUrl = await createPool({ module: new URL(href), workers: 1 });
    expect(await fromUrl.session('a').call('inc', 2)).toBe(22);
    expect((await inspectModule(href)).runnable).toBe(true);
  });

  it('decodes the URL: an escaped character names the file it stands for', async () => {
    const escaped = pathToFileURL(REACTOR).href.replace('reactor.wasm', 'reactor%2Ewasm');
    const pool = await createPool({ module: escaped, workers: 1 });
    expect(await pool.session('a').call('inc', 1)).toBe(21);
  });

  it.each([
    ['a file: URL naming a host', 'file://example.invalid/reactor.wasm'],
    ['an encoded slash', 'file:///tmp%2Freactor.wasm'],
    ['a malformed file: URL', 'file://[bad/reactor.wasm'],
  ])('refuses %s with ERR_INVALID_OPTION, showing it', async (_what, module) => {
    const error = await rejection(createPool({ module, workers: 1 }));
    expect(error.code).toBe('ERR_INVALID_OPTION');
    expect(error.message).toContain(`got \`${JSON.stringify(module)}\` (string)`);
  });

  it('reports a file: URL naming no file as ERR_MODULE_NOT_FOUND, with its path', async () => {
    const missing = pathToFileURL(`${REACTOR}.missing`);
    const error = await rejection(createPool({ module: missing.href, workers: 1 }));
    expect(error.code).toBe('ERR_MODULE_NOT_FOUND');
    expect(error.message).toContain(JSON.stringify(`${REACTOR}.missing`));
  });

  it('a string without the file: scheme stays a path, even with a colon in it', async () => {
    const error = await rejection(createPool({ module: 'c:reactor.wasm', workers: 1 }));
    expect(error.code).toBe('ERR_MODULE_NOT_FOUND');
  });
});

describe('the reference reactor through the package exports', () => {
  it("import.meta.resolve('reactor-pool/reactor.wasm') names reactor/reactor.wasm", () => {
    const script = "console.log(import.meta.resolve('reactor-pool/reactor.wasm'))";
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(pathToFileURL(REACTOR).href);
  });
});
