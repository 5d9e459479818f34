// The progress board the call-timeout watchdog reads: a worker killed in the middle of an update
// must not hang the main thread, and a reset after its death makes the board readable again.

import { describe, expect, it } from 'vitest';
import { Progress } from '../src/protocol.js';

describe('progress board', () => {
  it('reads what the worker wrote, and nothing between batches', () => {
    const board = new Progress(new SharedArrayBuffer(Progress.BYTES));
    board.reset();
    expect(board.read()).toBeUndefined();
    board.write(5, 42);
    expect(board.read()).toMatchObject({ seq: 5, index: 42 });
    board.write(-1, 0);
    expect(board.read()).toBeUndefined();
  });

  it('gives up on an update that never finishes (its writer died) instead of spinning, until reset', () => {
    const buffer = new SharedArrayBuffer(Progress.BYTES);
    const board = new Progress(buffer);
    board.write(3, 7);
    Atomics.add(new Int32Array(buffer, 0, 1), 0, 1); // a writer killed after its first step
    expect(board.read()).toBeUndefined();
    board.reset();
    expect(board.read()).toBeUndefined();
    board.write(4, 1);
    expect(board.read()).toMatchObject({ seq: 4, index: 1 });
  });
});
