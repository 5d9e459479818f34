#!/usr/bin/env bash
# Packs reactor-pool, checks the tarball ships the product only (no comparison benchmark: its code,
# its Go host or its dependencies), installs it into an empty project, and checks that the library
# imports and the `reactor-pool` command runs the reference scenario from there.
set -euo pipefail
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

cd -- "$root"
npm pack --silent --json --pack-destination "$work" > "$work/pack.json"
# The benchmark lives in bench/ (compiled to dist/bench); a stale dist/src/bench from an older build
# would slip in through `files`, so the packed list itself is checked, not package.json.
tarball=$(node - "$work/pack.json" <<'JS'
const { readFileSync } = require('node:fs');
const [pack] = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const benchmark = pack.files.map((f) => f.path).filter((path) => /(^|\/)(bench|wazero)(\/|$)|bench[^/]*$/i.test(path));
if (benchmark.length > 0) {
  console.error(`the package holds benchmark files:\n  ${benchmark.join('\n  ')}`);
  process.exit(1);
}
const { dependencies = {} } = JSON.parse(readFileSync('package.json', 'utf8'));
const benchOnly = ['tinybench'].filter((name) => name in dependencies);
if (benchOnly.length > 0) {
  console.error(`dependencies of the benchmark only are package dependencies: ${benchOnly.join(', ')}`);
  process.exit(1);
}
console.log(pack.filename);
JS
)
echo "the tarball holds no benchmark code ($(node -p "require('$work/pack.json')[0].entryCount") files): ok"
cd -- "$work"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --silent --no-fund --no-audit "./$tarball"

cat > check.js <<'JS'
import { ReactorPool, ReactorPoolError } from 'reactor-pool';
import { createRequire } from 'node:module';
const wasm = createRequire(import.meta.url).resolve('reactor-pool/package.json').replace('package.json', 'reactor/reactor.wasm');
const pool = await ReactorPool.create({ module: wasm, workers: 2, stderr: 'ignore' });
const alice = pool.session('alice');
const results = [await alice.call('inc', 1), await alice.call('inc', 21), await pool.session('bob').call('inc', 1)];
try { await alice.call('nope'); } catch (error) { results.push(error instanceof ReactorPoolError ? error.code : 'wrong class'); }
await pool.close();
if (JSON.stringify(results) !== JSON.stringify([21, 42, 21, 'ERR_UNKNOWN_EXPORT'])) throw new Error(`got ${JSON.stringify(results)}`);
console.log('import from the tarball: ok');
JS
node check.js
out=$(npx --no-install reactor-pool run node_modules/reactor-pool/reactor/reactor.wasm --call inc:1 --call inc:21 2>err.txt)
if [ "$out" != $'inc(1) = 21\ninc(21) = 42' ] || ! grep -qx 's = 20' err.txt; then
  printf 'npx reactor-pool run printed:\n%s\nand on stderr:\n%s\n' "$out" "$(cat err.txt)" >&2
  exit 1
fi
echo "npx reactor-pool run from the tarball: ok"
