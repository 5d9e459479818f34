// Links a module's imports to the declared host functions at pool creation: every import outside
// WASI must be a declared function of the same signature; what the workers then need to know.

import { HostFunctionMismatchError } from './errors.js';
import type { HostFunctionTable, HostValueType } from './host-functions.js';
import { formatSignature, type ImportSpec, type ModuleSpec } from './module-spec.js';

/** One host function the module imports, as workers link it (its index in the list names it on tapes). */
export interface HostImport {
  readonly module: string;
  readonly name: string;
  readonly params: readonly HostValueType[];
  readonly results: readonly HostValueType[];
}

/** What every worker is given to link host functions (part of its start-up data). */
export interface HostFunctionsData {
  /** The `file:` URL of the host-function module each worker imports. */
  readonly url: string;
  /** The host functions the module imports, in import order. */
  readonly imports: readonly HostImport[];
  /** Which operations carry their session's key: those that start an instance, or every one (isolation `'worker'`). */
  readonly keys: 'start' | 'every';
}

const WASI_MODULE = 'wasi_snapshot_preview1';

function sameTypes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((type, i) => type === b[i]);
}

/**
 * The module's non-WASI imports, each linked to its declared host function. Throws
 * `ERR_HOST_FUNCTION_MISMATCH` naming every import that is not a function, not declared, or declared
 * with another signature (a compiled module carries no signatures: only names are checked then).
 * Declared functions the module does not import are fine.
 */
export function linkHostImports(spec: ModuleSpec, table: HostFunctionTable, source: string): HostImport[] {
  const linked: HostImport[] = [];
  const problems: string[] = [];
  for (const item of spec.imports) {
    if (item.module === WASI_MODULE) continue;
    const problem = mismatch(item, table);
    if (problem !== undefined) {
      problems.push(problem);
      continue;
    }
    const declared = table.get(item.module)?.get(item.name);
    if (declared !== undefined) linked.push({ module: item.module, name: item.name, params: declared.params, results: declared.results });
  }
  if (problems.length > 0) {
    throw new HostFunctionMismatchError(`the module's imports do not match the host functions of ${source}: ${problems.join('; ')}`);
  }
  return linked;
}

function mismatch(item: ImportSpec, table: HostFunctionTable): string | undefined {
  const what = `\`${item.module}.${item.name}\``;
  if (item.kind !== 'function') return `${what} is a ${item.kind} import; host functions supply only functions`;
  const declared = table.get(item.module)?.get(item.name);
  const imported = item.signature === undefined ? '' : ` ${formatSignature(item.signature)}`;
  if (declared === undefined) {
    const names = [...(table.get(item.module)?.keys() ?? [])];
    const known = table.has(item.module) ? `it declares ${names.length === 0 ? 'nothing' : names.map((n) => `\`${n}\``).join(', ')} in \`${item.module}\`` : `it declares no module \`${item.module}\``;
    return `${what}${imported} is imported but not supplied (${known})`;
  }
  const signature = item.signature;
  if (signature === undefined || (sameTypes(signature.params, declared.params) && sameTypes(signature.results, declared.results))) return undefined;
  return `${what} is imported as ${formatSignature(signature)} but declared as ${formatSignature(declared)}`;
}
