// Turns whatever the user passed as `module` into a compiled WebAssembly.Module and its spec,
// refusing unreadable files, invalid bytes and modules that cannot run as reactors, up front.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InvalidModuleError, InvalidOptionError, ModuleNotFoundError, describeValue } from './errors.js';
import { assertRunnableReactor, type ExportSpec, type ExternKind, type ModuleSpec, type StackPointerSpec } from './module-spec.js';
import { exportMutableGlobals } from './module-rewrite.js';
import { SNAPSHOT_NO_BYTES } from './snapshot-analysis.js';
import type { ModuleBytesInput, ModuleInput } from './options.js';
import type { HostFunctionTable } from './host-functions.js';
import { linkHostImports, type HostImport } from './host-imports.js';

export interface LoadedModule {
  readonly module: WebAssembly.Module;
  readonly spec: ModuleSpec;
  /** False when the module came compiled: export signatures are then unknown. */
  readonly signaturesKnown: boolean;
  /** SHA-256 of the module's bytes (what snapshots are tied to); undefined when it came compiled. */
  readonly digest?: Uint8Array;
  /** With host functions: those the module imports, linked to their declarations. */
  readonly hostImports?: readonly HostImport[];
}

/** Host functions given to the pool: their table, and where they came from (for messages). */
export interface SuppliedHostFunctions {
  readonly table: HostFunctionTable;
  readonly source: string;
}

/**
 * Checks the module's imports: without host functions, anything outside WASI is refused
 * (`ERR_UNSUPPORTED_IMPORT`); with them, every other import must be a declared host function of the
 * same signature (`ERR_HOST_FUNCTION_MISMATCH`). Returns the linked host imports.
 */
export function checkImports(spec: ModuleSpec, host: SuppliedHostFunctions | undefined): HostImport[] | undefined {
  if (host === undefined) {
    assertRunnableReactor(spec);
    return undefined;
  }
  // Every non-WASI import is the host functions' to judge, with both signatures in the message.
  assertRunnableReactor(spec, [...new Set(spec.imports.map((i) => i.module).filter((m) => m !== 'wasi_snapshot_preview1'))]);
  return linkHostImports(spec, host.table, host.source);
}

export async function loadModule(input: ModuleInput, host?: SuppliedHostFunctions): Promise<LoadedModule> {
  if (input instanceof WebAssembly.Module) {
    const spec = specOfCompiled(input);
    const hostImports = checkImports(spec, host);
    return { module: input, spec, signaturesKnown: false, ...(hostImports === undefined ? {} : { hostImports }) };
  }
  const bytes = await readModuleBytes(input);
  const rewritten = exportMutableGlobals(bytes);
  const hostImports = checkImports(rewritten.spec, host);
  const linked = hostImports === undefined ? {} : { hostImports };
  const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
  try {
    return { module: await WebAssembly.compile(rewritten.bytes), spec: rewritten.spec, signaturesKnown: true, digest, ...linked };
  } catch (error) {
    if (rewritten.bytes === bytes) throw compileError(error);
  }
  // The rewrite must refuse nothing the compiler accepts, and errors must name the user's own bytes.
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (error) {
    throw compileError(error);
  }
  const { mutableGlobals: _unexported, mutableTables: _tables, tableFunctions: _functions, ...spec } = rewritten.spec;
  const stackPointer: StackPointerSpec = { found: false, reason: 'the module with its globals exported did not compile' };
  return { module, spec: { ...spec, stackPointer }, signaturesKnown: true, digest, ...linked };
}

function compileError(error: unknown): InvalidModuleError {
  return new InvalidModuleError(`invalid module: ${(error as Error).message}`);
}

export async function readModuleBytes(input: ModuleBytesInput): Promise<Uint8Array<ArrayBuffer>> {
  if (input instanceof Uint8Array) {
    return input.buffer instanceof ArrayBuffer ? (input as Uint8Array<ArrayBuffer>) : new Uint8Array(input);
  }
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  const path = modulePath(input);
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ModuleNotFoundError(`cannot read module file ${JSON.stringify(path)} (${code})`);
  }
}

/**
 * The file a path or `file:` URL names. A string starting with `file:` is a URL (what
 * `import.meta.resolve` gives, e.g. for `reactor-pool/reactor.wasm`); any other string is a path.
 */
function modulePath(input: unknown): string {
  if (typeof input === 'string' && input.length > 0 && !/^file:/i.test(input)) return input;
  const url = input instanceof URL ? input : typeof input === 'string' ? parseUrl(input) : undefined;
  if (url?.protocol === 'file:') {
    try {
      return fileURLToPath(url);
    } catch {
      // A file: URL naming a host, or holding an encoded '/': no path on this platform; refused below.
    }
  }
  throw new InvalidOptionError(
    `Expected \`module\` to be a file path, a file: URL, a Uint8Array, an ArrayBuffer or a WebAssembly.Module, got ${describeValue(input instanceof URL ? input.href : input)}`,
  );
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

const kindOf: Record<WebAssembly.ImportExportKind, ExternKind> = {
  function: 'function',
  table: 'table',
  memory: 'memory',
  global: 'global',
};

/** The JS API tells names and kinds, but no signatures nor memory limits. */
function specOfCompiled(module: WebAssembly.Module): ModuleSpec {
  const exports: ExportSpec[] = WebAssembly.Module.exports(module).map((e) => ({ name: e.name, kind: kindOf[e.kind] }));
  const imports = WebAssembly.Module.imports(module).map((i) => ({ module: i.module, name: i.name, kind: kindOf[i.kind] }));
  const memoryExport = exports.find((e) => e.kind === 'memory');
  const memoryImport = imports.find((i) => i.kind === 'memory');
  const has = (name: string): boolean => exports.some((e) => e.name === name && e.kind === 'function');
  const spec: ModuleSpec = {
    exports,
    imports,
    execModel: has('_start') ? 'command' : 'reactor',
    hasInitialize: has('_initialize'),
    byteLength: 0,
    snapshot: SNAPSHOT_NO_BYTES,
    stackPointer: { found: false, reason: 'the module came compiled; only bytes or a path can be rewritten to export it' },
    ...(memoryExport !== undefined || memoryImport !== undefined
      ? {
          memory: {
            initialPages: 0,
            shared: false,
            memory64: false,
            imported: memoryImport !== undefined,
            ...(memoryExport === undefined ? {} : { exportName: memoryExport.name }),
          },
        }
      : {}),
  };
  return spec;
}
