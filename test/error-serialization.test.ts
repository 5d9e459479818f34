import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ReactorExitError, ReactorPoolError, SessionLostError } from '../dist/src/index.js';
import { deserializeError } from '../dist/src/errors.js';

describe('errors cross threads as { code, message, ... } and come back as their class', () => {
  for (const code of ERROR_CODES) {
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

  it('rebuilds a code this version does not know as a plain ReactorPoolError, even one named like an Object property', () => {
    for (const code of ['ERR_FROM_THE_FUTURE', 'constructor', 'toString', '__proto__']) {
      const rebuilt = deserializeError(JSON.parse(JSON.stringify({ code, message: 'm' })) as Parameters<typeof deserializeError>[0]);
      expect(rebuilt.constructor).toBe(ReactorPoolError);
      expect(rebuilt.code).toBe(code);
    }
  });

  it('keeps the cause of a lost session, with its details', () => {
    const cause = new ReactorExitError('exit', { exitCode: 3, exportName: 'quit' });
    const lost = new SessionLostError('lost', { sessionKey: 'a' }, cause);
    const rebuilt = deserializeError(structuredClone(lost.toJSON()));
    expect(rebuilt).toBeInstanceOf(SessionLostError);
    expect(rebuilt.cause).toBeInstanceOf(ReactorExitError);
    expect((rebuilt.cause as ReactorExitError).exitCode).toBe(3);
  });
});
