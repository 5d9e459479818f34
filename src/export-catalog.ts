// The exports sessions may call, as the pool learned them from the module: looked up by name when a
// call is made, named by index in the operations workers run, with the guest allocator buffers use.

import { callableExports, lookupExport, type Callable } from './arguments.js';
import { detectAllocator } from './buffers.js';
import type { ModuleSpec } from './module-spec.js';
import type { AllocatorKind, ResultMode } from './protocol.js';

export class ExportCatalog {
  /** The callable exports by name. */
  readonly callables: ReadonlyMap<string, Callable>;
  /** Their names in index order: the export table workers receive. */
  readonly names: readonly string[];
  /** The guest allocator for buffers, if the module exports one (and its signatures are known). */
  readonly allocator: AllocatorKind | undefined;
  readonly #spec: ModuleSpec;

  constructor(spec: ModuleSpec, signaturesKnown: boolean, results: ReadonlyMap<string, ResultMode>) {
    this.#spec = spec;
    this.callables = callableExports(spec, signaturesKnown, results);
    this.names = [...this.callables.keys()];
    this.allocator = signaturesKnown ? detectAllocator(spec) : undefined;
  }

  /** The export `name` names; throws `ERR_INVALID_ARGUMENT` or `ERR_UNKNOWN_EXPORT` for one that cannot be called. */
  lookup(name: unknown): Callable {
    return lookupExport(this.callables, this.#spec, name);
  }

  /** The name of the export at `index`, for messages. */
  nameAt(index: number): string {
    return this.names[index] ?? `#${index}`;
  }
}
