#!/usr/bin/env bash
# Packs reactor-pool and checks the tarball as its users get it: it ships the product only (no
# comparison benchmark: its code, its Go host or its dependencies); publint and arethetypeswrong find
# nothing wrong with its package.json and its types; installed into an empty project, every program in
# examples/ compiles as a strict TypeScript consumer's (skipLibCheck off, no DOM lib) and prints its
# .out file; the declarations need nothing newer than the oldest @types/node the package's peer range
# allows; and the `reactor-pool` command runs the reference scenario from there.
set -euo pipefail
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
# A background check (below) is waited for, never left running, before its files go.
trap 'wait; rm -rf -- "$work"' EXIT

cd -- "$root"
# `npm pack` would build again (`prepare`) where `npm test` just did: build only when dist/ is missing
# or older than a source file, then pack without scripts.
if [ ! -f dist/src/index.js ] || [ -n "$(find src workers tsconfig.json tsconfig.build.json -newer dist/src/index.js -print -quit)" ]; then
  npm run --silent build
fi
npm pack --ignore-scripts --silent --json --pack-destination "$work" > "$work/pack.json"
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
# attw's esm-only profile: the package is ESM only (`"type": "module"`, no `require` condition), so
# CommonJS resolution (node10, node16 from CJS) finding ESM is the intended answer, not a fault.
# reactor.wasm is an asset to resolve (import.meta.resolve), not a module with types: not an entry point.
"$root/node_modules/.bin/publint" run "$work/$tarball" --strict
if ! attw_report=$("$root/node_modules/.bin/attw" "$work/$tarball" --profile esm-only --exclude-entrypoints ./reactor.wasm --format ascii); then
  printf '%s\n' "$attw_report" >&2
  exit 1
fi
echo "publint and arethetypeswrong (esm-only) on the tarball: ok"
# The peer range's floor as a whole version: ">=20.12" → 20.12.0.
types_node_floor=$(node -p "const [x, y = 0, z = 0] = require('$root/package.json').peerDependencies['@types/node'].replace(/^>=/, '').split('.'); [x, y, z].join('.')")
cd -- "$work"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
# The newest @types/node for Node.js 20, the oldest Node.js the package supports; and prom-client, the
# optional peer dependency of reactor-pool/prometheus (examples/metrics-server.ts uses it), in its peer range.
prom_client_range=$(node -p "require('$root/package.json').peerDependencies['prom-client']")
npm install --silent --no-fund --no-audit "./$tarball" '@types/node@20' "prom-client@$prom_client_range"

# Everything of examples/ but compiled output (an example's .out file, any file it reads beside it, and
# the modules in its folders: a generated exports description, a host-functions module).
mkdir examples
tar -C "$root/examples" --exclude='*.js' --exclude='./tsconfig.json' -cf - . | tar -C examples -xf -
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "lib": ["ES2022"],
    "types": ["node"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "exactOptionalPropertyTypes": true,
    "verbatimModuleSyntax": true,
    "skipLibCheck": false
  },
  "include": ["examples/*.ts", "examples/*/*.ts"]
}
JSON
tsc=("$(command -v node)" "$root/node_modules/typescript/bin/tsc")

# Meanwhile, in a copy of the project with the oldest @types/node the peer range allows: its releases
# before 20.16.10 predate TypeScript 5.7's typed arrays, so its own files do not compile with
# skipLibCheck off; any other error fails.
mkdir floor
cp -R package.json tsconfig.json examples node_modules "$tarball" floor/
(cd floor && npm install --silent --no-save --no-fund --no-audit "@types/node@$types_node_floor" \
  && { "${tsc[@]}" -p tsconfig.json --noEmit > tsc.txt || true; }) &
floor_check=$!

"${tsc[@]}" -p tsconfig.json
echo "a strict TypeScript consumer (skipLibCheck off, @types/node $(node -p "require('@types/node/package.json').version")) compiles examples/*.ts: ok"
failed=0
for source in examples/*.ts; do
  name=$(basename -- "$source" .ts)
  if ! node "examples/$name.js" > "examples/$name.actual" 2> "examples/$name.stderr"; then
    printf 'examples/%s.js failed; its stderr:\n%s\n' "$name" "$(cat "examples/$name.stderr")" >&2
    failed=1
  elif ! diff -u "examples/$name.out" "examples/$name.actual" >&2; then
    echo "examples/$name.js printed something else than examples/$name.out (diff above)" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
echo "examples run from the installed package, each printing its .out file: ok ($(ls examples/*.ts | wc -l) examples)"

wait "$floor_check" || { echo "could not install @types/node@$types_node_floor" >&2; exit 1; }
floor_version=$(node -p "require('./floor/node_modules/@types/node/package.json').version")
floor_errors=$(grep -E '^[^ ].*error TS' floor/tsc.txt | grep -v '^node_modules/@types/node/' || true)
if [ "$floor_version" != "$types_node_floor" ] || [ -n "$floor_errors" ]; then
  printf 'the declarations do not compile with @types/node %s (installed: %s):\n%s\n' "$types_node_floor" "$floor_version" "$floor_errors" >&2
  exit 1
fi
echo "the declarations compile with @types/node $types_node_floor, the peer range's floor: ok"
out=$(npx --no-install reactor-pool run node_modules/reactor-pool/reactor/reactor.wasm --call inc:1 --call inc:21 2>err.txt)
if [ "$out" != $'inc(1) = 21\ninc(21) = 42' ] || ! grep -qx 's = 20' err.txt; then
  printf 'npx reactor-pool run printed:\n%s\nand on stderr:\n%s\n' "$out" "$(cat err.txt)" >&2
  exit 1
fi
echo "npx reactor-pool run from the tarball: ok"
