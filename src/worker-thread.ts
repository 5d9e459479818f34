// One live worker thread of a slot, from its attachment to its end: its rings, its side port, its
// control channel, and the one place its exit and errors are handled. A replacement thread is a new
// WorkerThread with fresh rings, so nothing meant for a dead thread can reach another.

import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import type { Piscina } from 'piscina';
import { nodeEndpoint } from './control-channel.js';
import type { AttachResult, AttachTask, WorkerControl } from './protocol.js';
import { Ring } from './ring.js';
import { readOutcomes, type BatchEncoder, type OutcomeHandler } from './wire.js';

/** Bytes of each ring: a thread holds two, 8 MiB of shared memory per worker. */
const RING_BYTES = 4 * 1024 * 1024;
/** Batches in flight per thread at most: more keep the worker busy while outcomes travel back. */
export const MAX_BATCHES_IN_FLIGHT = 8;
/** Words a batch record may take: every batch in flight fits in the request ring together (a record takes at most half a ring). */
export const MAX_BATCH_WORDS = Math.floor((Math.floor(RING_BYTES / 8 / 2) - 1) / MAX_BATCHES_IN_FLIGHT);
/** Arguments of one operation larger than this (in words) go by the side port instead of the ring. */
export const SIDE_WORDS = Math.floor(MAX_BATCH_WORDS / 2);

export class WorkerThread {
  /** The thread's id (`threadId`), known from construction. */
  readonly id: number;
  readonly requests: Ring;
  readonly responses: Ring;
  readonly #worker: Worker;
  readonly #side: MessagePort;
  readonly #controlPort: MessagePort;
  #control: Remote<WorkerControl> | undefined;
  #ended = false;
  /** Why the thread died, if it said (its 'error' comes before its 'exit'). */
  #detail: string | undefined;
  #referenced = false;
  /** Rejects when the thread exits: control calls in flight then fail instead of waiting forever. */
  readonly #exited: Promise<never>;
  #rejectExited: (error: Error) => void = () => {};

  /**
   * Attaches `worker` (a piscina thread that has just started): hands it fresh rings and ports by its
   * one piscina task. `onEnd` is called once when the thread exits, with what its error said, if any.
   */
  static async attach(piscina: Piscina, worker: Worker, onEnd: (thread: WorkerThread, detail: string | undefined) => void): Promise<WorkerThread> {
    const side = new MessageChannel();
    const control = new MessageChannel();
    const task: AttachTask = {
      requests: Ring.allocate(RING_BYTES), responses: Ring.allocate(RING_BYTES), side: side.port2, control: control.port2,
    };
    // Listening to the thread's end from now on: an end while attaching is handled like any other.
    const thread = new WorkerThread(worker, task, side.port1, control.port1, onEnd);
    await thread.#connect();
    if (thread.#ended) throw new Error(`thread ${thread.id} exited while starting`);
    const result = (await Promise.race([piscina.run(task, { transferList: [side.port2, control.port2] }), thread.#exited])) as AttachResult;
    // With one thread per slot the task goes to this thread, unless it died first and a replacement took it.
    if (result.thread !== thread.id) throw new Error(`thread ${thread.id} exited while starting (its replacement ${result.thread} took its rings)`);
    return thread;
  }

  private constructor(
    worker: Worker, task: AttachTask, side: MessagePort, controlPort: MessagePort, onEnd: (thread: WorkerThread, detail: string | undefined) => void,
  ) {
    this.id = worker.threadId;
    this.#worker = worker;
    this.requests = new Ring(task.requests);
    this.responses = new Ring(task.responses);
    this.#side = side;
    this.#side.unref();
    this.#controlPort = controlPort;
    this.#exited = new Promise<never>((_, reject) => {
      this.#rejectExited = reject;
    });
    this.#exited.catch(() => {});
    worker.on('error', (error: Error) => {
      this.#detail ??= error.message;
    });
    worker.once('exit', () => {
      this.#ended = true;
      // Whoever waits for outcomes stops waiting.
      this.responses.wakeConsumer();
      this.#rejectExited(new Error(`thread ${this.id} exited${this.#detail === undefined ? '' : ` (${this.#detail})`}`));
      try {
        // Outcomes the thread wrote before it ended are still read (their side-port values too).
        onEnd(this, this.#detail);
      } finally {
        this.#side.close();
        this.#controlPort.close();
      }
    });
  }

  async #connect(): Promise<void> {
    this.#control = wrap<WorkerControl>(await nodeEndpoint(this.#controlPort));
    // comlink's listener refs the port: it must not keep the process alive by itself.
    this.#controlPort.unref();
  }

  get #remote(): Remote<WorkerControl> {
    if (this.#control === undefined) throw new Error(`thread ${this.id} has no control channel yet`);
    return this.#control;
  }

  /** Whether the thread has exited. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Sends the encoded batch: its side values first, then its record. False if the ring has no room now. */
  send(encoder: BatchEncoder): boolean {
    const record = encoder.words;
    if (!this.requests.hasRoom(record.length)) return false;
    for (const value of encoder.side) this.#side.postMessage(value);
    return this.requests.write(record);
  }

  /** Reads every outcome the worker has written so far, in order; returns how many records there were. */
  readOutcomes(sink: OutcomeHandler): number {
    const responses = this.responses;
    let records = 0;
    for (let at = responses.next(); at >= 0; at = responses.next()) {
      readOutcomes(responses, at, sink, this.#takeSide);
      responses.release(at);
      records++;
    }
    return records;
  }

  readonly #takeSide = (): unknown => {
    const message = receiveMessageOnPort(this.#side);
    if (message === undefined) throw new Error(`thread ${this.id} announced an outcome on its side port but sent none`);
    return message.message;
  };

  /** Resolves when outcomes may have arrived (or the thread ended); undefined if some already have. */
  whenOutcomes(): Promise<unknown> | undefined {
    if (this.#ended) return undefined;
    const seen = this.responses.readPosition;
    if (this.responses.next() >= 0) return undefined;
    return this.responses.waitForRecordAsync(seen);
  }

  /** Keeps the process alive while work is in flight on the thread (and lets it exit when idle). */
  keepAlive(on: boolean): void {
    if (on === this.#referenced || this.#ended) return;
    this.#referenced = on;
    if (on) this.#worker.ref();
    else this.#worker.unref();
  }

  /** Links the module on the thread; resolves with why it cannot run, if it cannot. */
  async probe(): Promise<ReturnType<WorkerControl['probe']>> {
    return this.#withKeepAlive(() => this.#remote.probe());
  }

  /** Asks the thread to recount its instances' memory. */
  async countMemory(): Promise<void> {
    await Promise.race([this.#remote.countMemory(), this.#exited]);
  }

  /** A control call: keeps the process alive while it waits, and fails if the thread exits first. */
  async #withKeepAlive<T>(body: () => Promise<T>): Promise<T> {
    this.#controlPort.ref();
    try {
      return await Promise.race([body(), this.#exited]);
    } finally {
      this.#controlPort.unref();
    }
  }

  /** Ends the thread at once, whatever it runs (its exit is then handled like any other). */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }
}
