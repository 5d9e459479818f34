// Where a worker collects what its reactors write to fds 1 and 2 while an operation runs, joined
// into one chunk per run of writes to one stream, for the main thread to deliver with the result.

import type { OutputChunk } from '../src/protocol.js';

/** Where captured output goes while an operation runs. Set by the worker around each operation. */
export interface OutputSink {
  capture: { stdout: boolean; stderr: boolean };
  chunks: OutputChunk[] | undefined;
  /** Writes to one stream in a row, joined into one chunk when the stream changes or the operation ends. */
  run: { fd: 1 | 2; parts: Uint8Array[]; bytes: number } | undefined;
}

/** The output of the operation that just ran (adjacent writes to one stream joined), or undefined. */
export function takeOutput(sink: OutputSink): OutputChunk[] | undefined {
  closeRun(sink);
  const chunks = sink.chunks;
  if (chunks === undefined || chunks.length === 0) return undefined;
  return chunks.splice(0);
}

/**
 * Records one write of `total` bytes in `parts` (views of guest memory, copied here) to `fd`, if
 * that stream is captured and an operation runs; otherwise nothing is copied.
 */
export function appendOutput(sink: OutputSink, fd: 1 | 2, parts: readonly Uint8Array[], total: number): void {
  const wanted = fd === 1 ? sink.capture.stdout : sink.capture.stderr;
  if (!wanted || sink.chunks === undefined || total === 0) return;
  // Adjacent writes to one stream travel as one chunk, so a line printed piecewise arrives
  // whole; they are joined once, when the run ends (joining on every write was quadratic).
  if (sink.run?.fd !== fd) {
    closeRun(sink);
    sink.run = { fd, parts: [], bytes: 0 };
  }
  sink.run.parts.push(concat(parts, total));
  sink.run.bytes += total;
}

function closeRun(sink: OutputSink): void {
  const run = sink.run;
  if (run === undefined) return;
  sink.run = undefined;
  sink.chunks?.push([run.fd, run.parts.length === 1 ? (run.parts[0] as Uint8Array) : concat(run.parts, run.bytes)]);
}

export function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
