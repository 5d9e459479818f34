// `reactor-pool inspect <module>`: prints what the pool learns from a module before running it.

import { formatSignature, inspectModule } from '../inspect.js';

export const INSPECT_HELP = `Usage: reactor-pool inspect <module> [--json | --dts [-o FILE] [--name NAME]]

Prints a module's exports with their signatures, its imports, its memory,
whether reactor-pool can run it as a reactor, and whether its instances
could be snapshotted (and why not).

Options:
  --json      print the report as JSON
  --dts       print a TypeScript type of the exports instead, as
              \`reactor-pool types\` does (its -o, --name, --import-from too)
  -h, --help  show this help`;

export async function inspectCommand(path: string, json: boolean, write: (line: string) => void): Promise<number> {
  const report = await inspectModule(path);
  if (json) {
    write(JSON.stringify(report, null, 2));
    return 0;
  }
  const { spec } = report;
  write(`module: ${path} (${spec.byteLength} bytes)`);
  write(`exec model: ${spec.execModel}${spec.hasInitialize ? ' (exports _initialize)' : ''}`);
  write(`reactor: ${report.runnable ? 'yes' : `no — ${report.problem?.code}: ${report.problem?.message}`}`);
  const { snapshot } = spec;
  write(`snapshot: ${snapshot.possible ? 'yes' : `no — ${snapshot.reasons.map((r) => `${r.code}: ${r.message}`).join('; ')}`}`);
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
  return 0;
}
