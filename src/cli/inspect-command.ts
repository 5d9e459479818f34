// `reactor-pool inspect <module>`: prints what the pool learns from a module before running it, and
// exits 3 when the pool would refuse to run it.

import { detectAllocator } from '../buffers.js';
import { formatSignature, inspectModule } from '../inspect.js';
import type { AllocatorKind } from '../protocol.js';

/** The exit code of `inspect` for a module it could read but the pool would refuse to run. */
export const REFUSED_EXIT_CODE = 3;

export const INSPECT_HELP = `Usage: reactor-pool inspect <module> [--host-functions PATH] [--json | --dts [-o FILE] [--name NAME]]

Prints a module's exports with their signatures, its imports, its memory,
whether reactor-pool can run it as a reactor (and why not), the allocator
bytes and strings go through, and whether its instances could be snapshotted
(and why not).

Exit codes: 0 the pool can run the module; ${REFUSED_EXIT_CODE} it would refuse it (not a
reactor, an import it cannot supply, no exported memory, a module that does
not validate...): the report is printed all the same, with the reason; 1 the
file cannot be read or is not WebAssembly at all; 2 a usage mistake.

Options:
  --json      print the report as JSON: {"spec", "runnable", "problem" (when not
              runnable: {"code", "message"}), "allocator" ("malloc", "alloc",
              "cabi_realloc" or null)}; spec.snapshot is the snapshot verdict
              ({"possible", "reasons"}). An error prints {"error": {"code",
              "message"}} instead
  --host-functions PATH
              judge the module's imports against the host functions this ES
              module declares (the pool's hostFunctions option)
  --dts       print a TypeScript type of the exports instead, as
              \`reactor-pool types\` does (its -o, --name, --import-from too)
  -h, --help  show this help`;

/** The allocator line of the text report. */
const ALLOCATOR_TEXT: Readonly<Record<AllocatorKind, string>> = {
  malloc: 'malloc + free', alloc: 'alloc + dealloc', cabi_realloc: 'cabi_realloc (inputs in one scratch buffer; results not freed)',
};

export async function inspectCommand(path: string, json: boolean, write: (line: string) => void, hostFunctions?: string): Promise<number> {
  const report = await inspectModule(path, hostFunctions === undefined ? {} : { hostFunctions });
  const allocator = detectAllocator(report.spec);
  const exitCode = report.runnable ? 0 : REFUSED_EXIT_CODE;
  if (json) {
    write(JSON.stringify({ ...report, allocator: allocator ?? null }, null, 2));
    return exitCode;
  }
  const { spec } = report;
  write(`module: ${path} (${spec.byteLength} bytes)`);
  write(`exec model: ${spec.execModel}${spec.hasInitialize ? ' (exports _initialize)' : ''}`);
  write(`reactor: ${report.runnable ? 'yes' : `no — ${report.problem?.code}: ${report.problem?.message}`}`);
  const { snapshot } = spec;
  write(`snapshot: ${snapshot.possible ? 'yes' : `no — ${snapshot.reasons.map((r) => `${r.code}: ${r.message}`).join('; ')}`}`);
  write(`allocator: ${allocator === undefined ? 'none (calls cannot pass or return strings and bytes)' : ALLOCATOR_TEXT[allocator]}`);
  write('exports:');
  for (const e of spec.exports) {
    write(`  ${e.name}: ${e.kind === 'function' ? `function ${formatSignature(e.signature)}` : e.kind}`);
  }
  write(spec.imports.length === 0 ? 'imports: none' : 'imports:');
  for (const i of spec.imports) {
    write(`  ${i.module}.${i.name}: ${i.kind === 'function' ? `function ${formatSignature(i.signature)}` : i.kind}`);
  }
  const m = spec.memory;
  if (m === undefined) {
    write('memory: none');
  } else {
    const max = m.maximumPages === undefined ? 'no maximum' : `maximum ${m.maximumPages} pages`;
    const where = m.imported ? 'imported' : m.exportName === undefined ? 'not exported' : `exported as ${m.exportName}`;
    write(`memory: ${m.initialPages} pages initial (${m.initialPages * 64} KiB), ${max}, ${where}${m.shared ? ', shared' : ''}${m.memory64 ? ', memory64' : ''}`);
  }
  return exitCode;
}
