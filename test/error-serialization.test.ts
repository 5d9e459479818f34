import { describe, expect, it } from 'vitest';
import { ReactorExitError, ReactorPoolError, SessionLostError, type ErrorCode } from '../dist/src/index.js';
import { deserializeError } from '../dist/src/errors.js';

const CODES: ErrorCode[] = [
  'ERR_INVALID_OPTION', 'ERR_MODULE_NOT_FOUND', 'ERR_INVALID_MODULE', 'ERR_NOT_A_REACTOR', 'ERR_UNSUPPORTED_IMPORT',
  'ERR_UNKNOWN_EXPORT', 'ERR_INVALID_ARGUMENT', 'ERR_REACTOR_TRAP', 'ERR_REACTOR_EXIT', 'ERR_WORKER_FAILED',
  'ERR_SESSION_LOST', 'ERR_SESSION_CLOSED', 'ERR_POOL_CLOSED',
];

describe('errors cross threads as { code, message, ... } and come back as their class', () => {
  for (const code of CODES) {
    it(code, () => {
      const rebuilt = deserializeError({ code, message: `m ${code}`, sessionKey: 'k', exportName: 'inc' });
      expect(rebuilt).toBeInstanceOf(ReactorPoolError);
      expect(rebuilt.constructor).not.toBe(ReactorPoolError);
      expect(rebuilt.code).toBe(code);
      expect(rebuilt.message).toBe(`m ${code}`);
      expect(rebuilt.name).toMatch(/Error$/);
      expect(rebuilt.toJSON()).toEqual({ code, message: `m ${code}`, sessionKey: 'k', exportName: 'inc' });
      // What postMessage does to it:
      expect(deserializeError(structuredClone(rebuilt.toJSON())).code).toBe(code);
    });
  }

  it('keeps the cause of a lost session, with its details', () => {
    const cause = new ReactorExitError('exit', { exitCode: 3, exportName: 'quit' });
    const lost = new SessionLostError('lost', { sessionKey: 'a' }, cause);
    const rebuilt = deserializeError(structuredClone(lost.toJSON()));
    expect(rebuilt).toBeInstanceOf(SessionLostError);
    expect(rebuilt.cause).toBeInstanceOf(ReactorExitError);
    expect((rebuilt.cause as ReactorExitError).exitCode).toBe(3);
  });
});
