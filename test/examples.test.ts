// Every program in examples/ compiles as a strict TypeScript user's would (importing the package by
// its name) and prints exactly its .out file: the examples are tests, and README shows them.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES_DIR, compileExamples, exampleNames, expectedOutputNames, runExample } from './helpers/examples.js';

const names = exampleNames();

describe('examples', () => {
  beforeAll(() => {
    const compiled = compileExamples();
    expect(compiled.stdout + compiled.stderr, 'tsc -p examples/tsconfig.json').toBe('');
    expect(compiled.status).toBe(0);
  }, 120_000);

  it('each example has its expected output, and each expected output its example', () => {
    expect(names.length).toBeGreaterThan(0);
    expect(expectedOutputNames()).toEqual(names);
  });

  it.each(names)('examples/%s.ts prints its .out file', (name) => {
    const run = runExample(name);
    const expected = readFileSync(`${EXAMPLES_DIR}${name}.out`, 'utf8');
    expect(run.stdout, `stderr of examples/${name}.js:\n${run.stderr}`).toBe(expected);
    expect(run.status, `stderr of examples/${name}.js:\n${run.stderr}`).toBe(0);
  }, 70_000);
});
