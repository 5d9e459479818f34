// What `reactor-pool inspect` shows: the module's spec and whether the pool can run it,
// reported rather than thrown, so a command module can still be looked at.

import { ReactorPoolError } from './errors.js';
import { readModuleBytes } from './module-source.js';
import type { ModuleBytesInput } from './options.js';
import { assertRunnableReactor, parseModuleSpec, type ModuleSpec } from './module-spec.js';

/** The result of {@link inspectModule}. */
export interface ModuleReport {
  readonly spec: ModuleSpec;
  /** True when the pool can run the module as a reactor. */
  readonly runnable: boolean;
  /** Why it cannot, when `runnable` is false. */
  readonly problem?: { readonly code: string; readonly message: string };
}

/**
 * Reads and parses a module without running it. Rejects only when the input cannot be read
 * or is not a WebAssembly module; a module the pool would refuse is reported with its problem.
 */
export async function inspectModule(input: ModuleBytesInput): Promise<ModuleReport> {
  const bytes = await readModuleBytes(input);
  const spec = parseModuleSpec(bytes);
  try {
    assertRunnableReactor(spec);
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
