// A worker thread running the pool's worker operations (dist/workers/operations.js) with the
// WorkerData it is given, without rings: each message is one encoded request record (its words'
// buffer and its side-port values); the reply is the outcomes, as [status, payload] pairs.

import { parentPort } from 'node:worker_threads';
import { OP_HEADER_WORDS, REQUEST_HEADER_WORDS, payloadWords } from '../../dist/src/wire.js';
import { beginBatch, endBatch, runOp } from '../../dist/workers/operations.js';

parentPort.on('message', ({ buffer, side }) => {
  const words = { f64: new Float64Array(buffer), i64: new BigInt64Array(buffer), i32: new Int32Array(buffer), u8: new Uint8Array(buffer) };
  const outcomes = [];
  beginBatch();
  try {
    let p = REQUEST_HEADER_WORDS;
    for (let n = 0; n < words.i32[4]; n++) {
      runOp(words, p, (status, payload) => outcomes.push([status, payload]), () => side.shift());
      p += OP_HEADER_WORDS + payloadWords(words, p);
    }
  } finally {
    endBatch();
  }
  parentPort.postMessage(outcomes);
});
