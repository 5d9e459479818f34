// `reactor-pool types <module>` (and `inspect --dts`): writes the TypeScript description of a
// module's callable exports, for `ReactorPool.create<Exports>()`.

import { exportsDeclaration } from '../exports-declaration.js';
import { writeFileAtomically } from '../atomic-file.js';

export const TYPES_HELP = `Usage: reactor-pool types <module> [-o FILE] [--name NAME] [--import-from SPEC]

Writes a TypeScript interface describing the module's callable exports:
one method per export, i32/f32/f64 as I32/F32/F64 (numbers), i64 as bigint,
no result as undefined, several as a tuple. Give it to the pool, and every
session call is checked against the module at compile time:

  import type { ReactorExports } from './reactor-exports.js';
  const pool = await ReactorPool.create<ReactorExports>({ module: 'reactor.wasm' });

The output is the same for the same module; its header names the module's
SHA-256. \`reactor-pool inspect <module> --dts\` does the same.

Options:
  -o, --out FILE        write to FILE (replaced whole) instead of stdout
  --name NAME           the interface's name (default: the file name in
                        PascalCase + Exports: reactor.wasm → ReactorExports)
  --import-from SPEC    where to import I32, F32, F64 from (default: reactor-pool)
  -h, --help            show this help`;

/** The command's flags, for the command-line parser (shared with `inspect --dts`). */
export const TYPES_OPTIONS = {
  out: { type: 'string', short: 'o' },
  name: { type: 'string' },
  'import-from': { type: 'string' },
} as const;

export interface TypesArgs {
  readonly module: string;
  readonly out: string | undefined;
  readonly name: string | undefined;
  readonly importFrom: string | undefined;
}

export async function typesCommand(args: TypesArgs, write: (text: string) => void): Promise<number> {
  const text = await exportsDeclaration(args.module, {
    ...(args.name === undefined ? {} : { name: args.name }),
    ...(args.importFrom === undefined ? {} : { importFrom: args.importFrom }),
  });
  if (args.out === undefined) write(text.trimEnd());
  else await writeFileAtomically(args.out, Buffer.from(text), { sync: false });
  return 0;
}
