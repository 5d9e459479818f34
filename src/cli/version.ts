// `reactor-pool --version`: the version of the package this command belongs to, read at run time
// from its package.json (two folders above dist/src/cli/ in a checkout and in an installed package alike).

import { readFileSync } from 'node:fs';

const PACKAGE_JSON = new URL('../../../package.json', import.meta.url);

/** The `version` field of reactor-pool's own package.json. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { name?: unknown; version?: unknown };
  if (manifest.name !== 'reactor-pool' || typeof manifest.version !== 'string') {
    throw new Error(`${PACKAGE_JSON.pathname} is not reactor-pool's package.json`);
  }
  return manifest.version;
}
