// Instances started per second in one thread: node:wasi's bound imports (before the sealed
// surface) against the sealed surface's per-instance functions, and one shared import object: the
// most a per-worker dispatcher could gain (it would also cost every call a store). After `npm run build`:
//   node bench/wasi-start.mjs [module.wasm ...] [--seconds S] [--rounds N]

import { readFileSync } from 'node:fs';
import { loadWasi } from '../dist/workers/quiet-wasi.js';
import { ReactorInstance } from '../dist/workers/reactor-instance.js';
import { SealedWasi } from '../dist/workers/sealed-wasi.js';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const at = argv.indexOf(name);
  if (at < 0) return fallback;
  const [value] = argv.splice(at, 2).slice(1);
  return Number(value);
};
const seconds = option('--seconds', 1);
const rounds = option('--rounds', 3);
const files = argv.length > 0 ? argv : ['reactor/reactor.wasm', 'test/fixtures/conformance/go.wasm'];

const WASI = await loadWasi();
const sink = () => ({ capture: { stdout: false, stderr: false }, chunks: undefined, run: undefined });
const config = { args: [], env: {}, preopens: {}, stdin: new Uint8Array(0) };
const memoryOf = (instance) => Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory);

/**
 * What the worker did before the sealed surface: node:wasi's (bound) imports, with `proc_exit`
 * replaced and `fd_write` to fds 1/2 captured (here: counted and dropped, as with output 'ignore').
 */
function nodeWasiStart(module, wrap) {
  const wasi = new WASI({ version: 'preview1', args: [], env: {}, preopens: {} });
  const imports = { ...wasi.wasiImport };
  if (wrap) for (const [name, fn] of Object.entries(imports)) imports[name] = (...args) => fn(...args);
  let memory;
  const realFdWrite = imports.fd_write;
  imports.proc_exit = (code) => { throw new Error(`exit ${code}`); };
  imports.fd_write = (fd, iovs, count, written) => {
    if ((fd !== 1 && fd !== 2) || memory === undefined) return realFdWrite(fd, iovs, count, written);
    const view = new DataView(memory.buffer);
    let total = 0;
    for (let i = 0; i < count; i++) total += view.getUint32(iovs + i * 8 + 4, true);
    view.setUint32(written, total, true);
    return 0;
  };
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: imports });
  memory = memoryOf(instance);
  const view = { memory };
  if (typeof instance.exports._initialize === 'function') view._initialize = instance.exports._initialize;
  wasi.initialize({ exports: view });
}

const variants = {
  'before: node:wasi bound imports': (module) => nodeWasiStart(module, false),
  'node:wasi imports wrapped in plain functions': (module) => nodeWasiStart(module, true),
  'after: sealed, per-instance functions (what ships)': (module) => new ReactorInstance(WASI, module, [], config, sink(), undefined),
  'sealed, one import object for all (a per-worker dispatcher, at best)': (() => {
    const shared = new Map();
    return (module) => {
      let wasi = shared.get(module);
      if (wasi === undefined) shared.set(module, wasi = new SealedWasi(WASI, module, config, sink()));
      const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.imports });
      wasi.attach(memoryOf(instance));
      instance.exports._initialize?.();
    };
  })(),
};

console.log(`node ${process.version}, ${seconds} s per measurement, best of ${rounds} rounds (interleaved)`);
for (const file of files) {
  const module = new WebAssembly.Module(readFileSync(file));
  const best = new Map();
  for (let round = 0; round < rounds; round++) {
    for (const [name, start] of Object.entries(variants)) {
      start(module); // warm-up
      let count = 0;
      const began = performance.now();
      const end = began + seconds * 1000;
      while (performance.now() < end) {
        start(module);
        count++;
      }
      const rate = count / ((performance.now() - began) / 1000);
      best.set(name, Math.max(best.get(name) ?? 0, rate));
    }
  }
  console.log(`\n${file}`);
  for (const [name, rate] of best) console.log(`  ${Math.round(rate).toString().padStart(7)} starts/s  ${(1000 / rate).toFixed(3)} ms  ${name}`);
}
