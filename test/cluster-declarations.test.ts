// The package's declarations never reach the NATS client's: a strict TypeScript consumer (skipLibCheck
// off, exactOptionalPropertyTypes on) of `reactor-pool`, `reactor-pool/cluster` or
// `reactor-pool/prometheus` would otherwise type-check NATS's own declarations, which fail there.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/src/', import.meta.url));

/** Every module specifier the declaration file `file` reaches, with the chain of files that leads there. */
function reached(file: string, seen = new Set<string>(), chain: string[] = []): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const found: string[] = [];
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
    if (specifier === undefined) continue;
    if (specifier.startsWith('.')) found.push(...reached(resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts')), seen, [...chain, file]));
    else found.push(`${specifier} (via ${[...chain, file].map((f) => f.slice(DIST.length)).join(' > ')})`);
  }
  return found;
}

describe('the declarations of the package\'s entry points', () => {
  it.each(['index.d.ts', 'cluster/index.d.ts', 'prometheus.d.ts'])('%s reaches no @nats-io module', (entry) => {
    const external = reached(resolve(DIST, entry));
    expect(external.filter((specifier) => specifier.startsWith('@nats-io'))).toEqual([]);
    // It does reach the others it should (the check reads what it claims to).
    if (entry === 'prometheus.d.ts') expect(external.some((specifier) => specifier.startsWith('prom-client'))).toBe(true);
  });
});
