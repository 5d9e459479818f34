// Error codes are listed once (ERROR_CODES): every code has its own class, survives crossing a thread, and
// README's list of error classes names exactly these codes.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../dist/src/index.js';
import { ERROR_CODES, ReactorPoolError } from '../dist/src/index.js';
import { deserializeError } from '../dist/src/errors.js';

/** The class names in README's "Every error is a `ReactorPoolError` subclass (...)" sentence. */
function documentedClasses(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const match = /Every error is a `ReactorPoolError` subclass\s*\(([^)]*)\)/.exec(readme);
  expect(match, 'README lists the error classes').not.toBeNull();
  return [...(match?.[1] ?? '').matchAll(/`(\w+)`/g)].map((found) => found[1] as string);
}

/** The exported subclasses of ReactorPoolError, by name. */
function exportedClasses(): Map<string, new (message: string) => ReactorPoolError> {
  const classes = new Map<string, new (message: string) => ReactorPoolError>();
  for (const [name, value] of Object.entries(api)) {
    if (typeof value === 'function' && value.prototype instanceof ReactorPoolError) classes.set(name, value as new (message: string) => ReactorPoolError);
  }
  return classes;
}

describe('ERROR_CODES', () => {
  it('has no duplicates, and one exported class per code', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    const codes = [...exportedClasses().values()].map((ErrorClass) => new ErrorClass('m').code);
    expect([...codes].sort()).toStrictEqual([...ERROR_CODES].sort());
  });

  it('is exactly the codes of the classes README lists', () => {
    const classes = exportedClasses();
    const documented = documentedClasses();
    expect(new Set(documented).size).toBe(documented.length);
    const codes = documented.map((name) => {
      const ErrorClass = classes.get(name);
      expect(ErrorClass, `README names ${name}, an exported error class`).toBeDefined();
      return ErrorClass === undefined ? name : new ErrorClass('m').code;
    });
    expect([...codes].sort()).toStrictEqual([...ERROR_CODES].sort());
  });

  it('marks only ERR_QUEUE_FULL, ERR_INSTANCE_LIMIT, ERR_JOURNAL_WRITE and ERR_CLUSTER_UNAVAILABLE retryable', () => {
    const retryable = ERROR_CODES.filter((code) => deserializeError({ code, message: 'm' }).retryable);
    expect(retryable).toStrictEqual([
      'ERR_QUEUE_FULL',
      'ERR_INSTANCE_LIMIT',
      'ERR_JOURNAL_WRITE',
      'ERR_CLUSTER_UNAVAILABLE',
    ]);
  });
});
