// A handle for one session key of a cluster: the same calls as a local pool's Session, sent to the
// member owning the key's partition. Everything is checked here, before anything is sent.

import { InvalidArgumentError, SessionClosedError, describeValue } from '../errors.js';
import { resolveCallOptions, type CallArg, type CallOptions, type ResolvedCallOptions } from '../call-options.js';
import type {
  ExportArgs, ExportResult, ManyItem, NameIn, NoResultModes, OnlyParam, ResultModeOf, ReturnOf, SessionCalls, TypedArgsFor,
  TypedListName, TypedResultOf, UntypedExports,
} from '../export-types.js';
import type { WireCallOptions, WireOp, WireValue } from './batch-wire.js';
import { abortedError, type PendingOp } from './pending-op.js';
import { isWireTypedArray } from './wire-values.js';
import { tickNow } from '../tick-clock.js';

/** What a cluster session is wired to, given by its client. */
export interface ClusterSessionDeps {
  /** The client's `callTimeout`, in ms. */
  readonly callTimeout: number;
  /** Throws ERR_POOL_CLOSED once the client is closing. */
  readonly assertOpen: () => void;
  /** A fresh idempotency key for a call that has none of its own. */
  readonly nextCallId: () => string;
  /** Queues an operation for its partition's owner. */
  readonly submit: (op: PendingOp) => void;
}

/** Not a given timeout: the client's `callTimeout` applies and the owner's own call timeout stays. */
const NO_TIMEOUT = Number.NaN;

/**
 * A session of a cluster, from {@link ClusterClient.session}: `call`, `callMany`, `with`, `snapshot`,
 * `restore`, `reset`, `close`, as a local pool's Session. Operations of a key run in submission order
 * on the member owning it; an operation the cluster cannot answer within its deadline (`callTimeout`
 * or its own `timeout`) rejects with `ERR_CLUSTER_UNAVAILABLE`. Every call carries an idempotency key
 * (its own, else a fresh one), so a call sent again after a failover runs at most once.
 */
export class ClusterSession<E extends object = UntypedExports, M = NoResultModes> {
  /** The session key. */
  readonly key: string;
  readonly #deps: ClusterSessionDeps;
  #closed = false;

  /** @internal Made by {@link ClusterClient.session}. */
  constructor(key: string, deps: ClusterSessionDeps) {
    this.key = key;
    this.#deps = deps;
  }

  /** Calls an export (see Session.call); typed by the client's exports type. */
  call<K extends NameIn<E, undefined>>(name: K, ...args: ExportArgs<E, K>): Promise<ExportResult<E, M, K, undefined>>;
  call(name: string, ...args: unknown[]): Promise<never> {
    return this.#call(name, args, undefined);
  }

  /** Calls an export once per item, in order, in one operation (see Session.callMany). */
  callMany<K extends TypedListName<E, M, undefined>>(name: K, list: TypedArgsFor<OnlyParam<E, K>>): Promise<TypedResultOf<ReturnOf<E, K>>>;
  callMany<K extends NameIn<E, undefined>>(name: K, list: readonly ManyItem<ExportArgs<E, K>>[]): Promise<ExportResult<E, M, K, undefined>[]>;
  callMany(name: string, list: unknown): Promise<never> {
    return this.#callMany(name, list, undefined);
  }

  /**
   * This session's `call` and `callMany` with per-call options: `signal` (rejects a call still queued
   * or waiting to be sent again, `ERR_ABORTED`), `timeout` (the call's deadline, retries included, and
   * its running time on the owner), `result`, `idempotencyKey` (1 to 1024 characters; by default each
   * call gets a fresh one). Options are checked now (`ERR_INVALID_OPTION`).
   */
  with<const O extends CallOptions>(options: O & { readonly [K in Exclude<keyof O, keyof CallOptions>]: never }): SessionCalls<E, M, ResultModeOf<O>> {
    const resolved = resolveCallOptions(options, NO_TIMEOUT, true);
    const calls: SessionCalls = {
      call: (name: string, ...args: CallArg[]) => this.#call(name, args, resolved),
      callMany: (name: string, list: unknown) => this.#callMany(name, list, resolved),
    };
    return calls as SessionCalls<E, M, ResultModeOf<O>>;
  }

  /** A snapshot of the session's state after the operations already made (bytes for {@link restore}). */
  snapshot(): Promise<Uint8Array> {
    return this.#send({ op: 'snapshot', key: this.key }, undefined);
  }

  /** Replaces the session's state with `snapshot`'s, after the operations already made. The bytes are copied now. */
  restore(snapshot: Uint8Array): Promise<void> {
    if (!(snapshot instanceof Uint8Array)) {
      return Promise.reject(new InvalidArgumentError(`Expected the snapshot to be a Uint8Array, got ${describeValue(snapshot)}`, { sessionKey: this.key }));
    }
    return this.#send({ op: 'restore', key: this.key, snapshot: new Uint8Array(snapshot) }, undefined);
  }

  /** Gives the session a fresh instance after the operations already made. */
  reset(): Promise<void> {
    return this.#send({ op: 'reset', key: this.key }, undefined);
  }

  /** Ends the session after the operations already made; later operations on this handle reject with `ERR_SESSION_CLOSED`. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const closed = this.#send({ op: 'close', key: this.key }, undefined);
    this.#closed = true;
    return closed;
  }

  #call(name: string, args: unknown[], options: ResolvedCallOptions | undefined): Promise<never> {
    try {
      checkExportName(name, this.key);
      const owned = args.map((arg, index) => ownArg(arg, this.key, name, `argument ${index}`));
      return this.#send({ op: 'call', key: this.key, id: this.#callId(options), name, args: owned, options: wireOptions(options) }, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #callMany(name: string, list: unknown, options: ResolvedCallOptions | undefined): Promise<never> {
    try {
      checkExportName(name, this.key);
      let owned: WireValue;
      if (isWireTypedArray(list)) {
        // A Buffer's `slice` is a view: copy bytes by hand.
        owned = list instanceof Uint8Array ? new Uint8Array(list) : (list as unknown as { slice(): WireValue }).slice();
      } else if (Array.isArray(list)) {
        owned = list.map((item: unknown, index) => Array.isArray(item)
          ? item.map((arg: unknown, at) => ownArg(arg, this.key, name, `item ${index} argument ${at}`))
          : ownArg(item, this.key, name, `item ${index}`));
      } else {
        throw new InvalidArgumentError(`Expected the callMany list to be an array or a typed array, got ${describeValue(list)}`, { sessionKey: this.key, exportName: name });
      }
      return this.#send({ op: 'callMany', key: this.key, id: this.#callId(options), name, list: owned, options: wireOptions(options) }, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #callId(options: ResolvedCallOptions | undefined): string {
    return options?.idempotencyKey ?? this.#deps.nextCallId();
  }

  #send(wire: WireOp, options: ResolvedCallOptions | undefined): Promise<never> {
    try {
      if (this.#closed) throw new SessionClosedError(`session ${JSON.stringify(this.key)} is closed`, { sessionKey: this.key });
      this.#deps.assertOpen();
      const signal = options?.signal;
      if (signal?.aborted === true) {
        throw abortedError(this.key, signal, false);
      }
      const timeout = options === undefined || Number.isNaN(options.timeout) ? this.#deps.callTimeout : options.timeout;
      const promise = new Promise<WireValue>((resolve, reject) => {
        this.#deps.submit({ wire, deadline: tickNow() + timeout, resolve, reject, signal, lastCause: '', sent: false, unwatch: undefined });
      });
      return promise as Promise<never>;
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

function checkExportName(name: unknown, sessionKey: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`Expected the export name to be a non-empty string, got ${describeValue(name)}`, { sessionKey });
  }
}

/** A call argument as it will be sent: numbers and bigints as they are, strings, and bytes copied now. */
function ownArg(arg: unknown, sessionKey: string, exportName: string, what: string): WireValue {
  if (typeof arg === 'number' || typeof arg === 'bigint' || typeof arg === 'string') return arg;
  if (arg instanceof Uint8Array) return new Uint8Array(arg);
  throw new InvalidArgumentError(`Expected ${what} to be a number, a bigint, a string or a Uint8Array, got ${describeValue(arg)}`, { sessionKey, exportName });
}

const NO_OPTIONS: WireCallOptions = Object.freeze({});

function wireOptions(options: ResolvedCallOptions | undefined): WireCallOptions {
  if (options === undefined) return NO_OPTIONS;
  const timeout = Number.isNaN(options.timeout) ? undefined : options.timeout;
  if (options.result !== undefined && timeout !== undefined) return { result: options.result, timeout };
  if (options.result !== undefined) return { result: options.result };
  if (timeout !== undefined) return { timeout };
  return NO_OPTIONS;
}
