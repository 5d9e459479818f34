// What `reactor-pool inspect` shows: the module's spec and whether the pool can run it,
// reported rather than thrown, so a command module can still be looked at.

import { ReactorPoolError } from './errors.js';
import type { ModuleBytesInput } from './options.js';
import { checkImports, readModuleBytes } from './module-source.js';
import { parseModuleSpec, type ModuleSpec } from './module-spec.js';
import { loadHostFunctions, resolveHostFunctionsOption } from './host-functions.js';

/** Options of {@link inspectModule}. */
export interface InspectOptions {
  /**
   * The module declaring host functions, as the pool's `hostFunctions` option takes it: the module's
   * other imports are judged against it (`ERR_HOST_FUNCTION_MISMATCH`) instead of refused.
   * @default undefined (imports outside WASI make the module not runnable)
   */
  readonly hostFunctions?: string | URL;
}

/** The result of {@link inspectModule}. */
export interface ModuleReport {
  readonly spec: ModuleSpec;
  /** True when the pool can run the module as a reactor. */
  readonly runnable: boolean;
  /** Why it cannot, when `runnable` is false. */
  readonly problem?: { readonly code: string; readonly message: string };
}

/**
 * Reads and parses a module without running it. Rejects only when the input cannot be read or is
 * not a WebAssembly module (or `hostFunctions` cannot be loaded); a module the pool would refuse is
 * reported with its problem.
 */
export async function inspectModule(input: ModuleBytesInput, options: InspectOptions = {}): Promise<ModuleReport> {
  // A host-function module that cannot be imported or is malformed is the caller's error: it rejects.
  const hostUrl = resolveHostFunctionsOption(options.hostFunctions);
  const host = hostUrl === undefined ? undefined : { table: await loadHostFunctions(hostUrl.href), source: hostUrl.href };
  const bytes = await readModuleBytes(input);
  const spec = parseModuleSpec(bytes);
  try {
    checkImports(spec, host);
  } catch (error) {
    if (!(error instanceof ReactorPoolError)) throw error;
    return { spec, runnable: false, problem: { code: error.code, message: error.message } };
  }
  if (!WebAssembly.validate(bytes)) {
    return { spec, runnable: false, problem: { code: 'ERR_INVALID_MODULE', message: 'the module does not validate' } };
  }
  return { spec, runnable: true };
}

export { formatSignature } from './module-spec.js';
