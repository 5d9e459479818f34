#!/usr/bin/env bash
# Rebuild every test fixture in test/fixtures/ from its source, next to it.
#
#   bash scripts/build-fixtures.sh          # rebuild and update test/fixtures/*.wasm
#   bash scripts/build-fixtures.sh --check  # rebuild in a temp dir, compare with the committed files
#
# Needs Zig 0.15.2 exactly (pip install ziglang==0.15.2, run as `python3 -m ziglang`)
# and wat2wasm (apt-get install -y wabt). Builds are byte-reproducible. With --check, modules built
# by another wat2wasm than test/fixtures/toolchains.env records (WABT_VERSION) are not compared:
# each prints "UNPINNED ..." and goes to $REACTOR_POOL_FRESH_FIXTURES if set (scripts/wasm-outputs.sh).
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/zig-toolchain.sh
source "$root/scripts/zig-toolchain.sh"
# shellcheck source=scripts/wasm-outputs.sh
source "$root/scripts/wasm-outputs.sh"
cd -- "$root/test/fixtures"
if ! command -v wat2wasm >/dev/null 2>&1; then
  echo "error: wat2wasm not found; install it with: apt-get install -y wabt" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
out="$tmp/out"
mkdir -p "$out"
wabt=$(wat2wasm --version)
echo "zig: $ZIG_VERSION, wat2wasm: $wabt"
wat_unpinned=
[ "$wabt" = "$WABT_VERSION" ] || wat_unpinned="wat2wasm $wabt (committed bytes from $WABT_VERSION)"

# --- build everything into $out ---------------------------------------------
# Zig reactors: same settings as reactor/build.zig (wasm32-wasi reactor, no entry,
# every `export fn` kept, ReleaseSmall, stripped, 64 KiB stack). Fresh cache dir: nothing stale.
for src in *.zig; do
  name=${src%.zig}
  zig build-exe "$src" -target wasm32-wasi -O ReleaseSmall -fstrip \
    -fno-entry -rdynamic -mexec-model=reactor --stack 65536 \
    --name "$name" --cache-dir "$tmp/cache" -femit-bin="$out/$name.wasm"
done

# Hand-written WAT modules; a first line `;; wat2wasm-flags: ...` adds flags (e.g. --debug-names);
# threads are always on, for shared memories (older wabt needs the flag; it changes no other output).
# snapshot/ holds one small module per reason a module cannot be snapshotted.
mkdir -p "$out/snapshot"
for src in *.wat snapshot/*.wat; do
  # shellcheck disable=SC2046 # the flags are words
  wat2wasm --enable-threads $(sed -n '1s/^;; wat2wasm-flags: //p' "$src") "$src" -o "$out/${src%.wat}.wasm"
done

# The examples' plug-ins (examples/*.wat), built the same way, checked and installed beside their sources.
mkdir -p "$out/examples"
for src in ../../examples/*.wat; do
  [ -f "$src" ] || continue
  name=$(basename -- "$src" .wat)
  wat2wasm --enable-threads "$src" -o "$out/examples/$name.wasm"
done

# Not a module at all: no source file, just these bytes.
printf 'not wasm\n' > "$out/not-wasm.wasm"

# --- install or compare -----------------------------------------------------
if [ "$check" = 1 ]; then
  bad=0 compared=0
  for built in "$out"/*.wasm "$out"/snapshot/*.wasm; do
    f=${built#"$out"/}
    if [ -n "$wat_unpinned" ] && [ -f "${f%.wasm}.wat" ]; then
      hand_over_unpinned "$f" "$built" "built by $wat_unpinned"
    elif [ ! -f "$f" ]; then
      echo "error: test/fixtures/$f is missing" >&2; bad=1
    elif ! cmp -s "$built" "$f"; then
      echo "error: test/fixtures/$f differs from a fresh build of its source" >&2
      echo "  committed: $(sha256sum "$f" | cut -d' ' -f1)" >&2
      echo "  rebuilt:   $(sha256sum "$built" | cut -d' ' -f1)" >&2
      bad=1
    else
      compared=$((compared + 1))
    fi
  done
  for f in *.wasm snapshot/*.wasm; do
    [ -f "$out/$f" ] || { echo "error: test/fixtures/$f has no source here to rebuild it from" >&2; bad=1; }
  done
  for built in "$out"/examples/*.wasm; do
    [ -f "$built" ] || continue
    f=../../examples/$(basename -- "$built")
    cmp -s "$built" "$f" || { echo "error: examples/$(basename -- "$built") is missing or differs from a fresh build of its source" >&2; bad=1; }
  done
  if [ "$bad" != 0 ]; then
    echo "run: bash scripts/build-fixtures.sh  (and commit test/fixtures/*.wasm, test/fixtures/snapshot/*.wasm)" >&2
    exit 1
  fi
  echo "ok: $compared of $(find "$out" -name '*.wasm' | wc -l) fixtures in test/fixtures compared, all match a fresh build"
else
  for built in "$out"/*.wasm "$out"/snapshot/*.wasm; do
    f=${built#"$out"/}
    cp -- "$built" "$f"
    chmod 644 "$f"
    echo "built test/fixtures/$f ($(wc -c < "$f") bytes)"
  done
  for built in "$out"/examples/*.wasm; do
    [ -f "$built" ] || continue
    f=../../examples/$(basename -- "$built")
    cp -- "$built" "$f"
    chmod 644 "$f"
    echo "built examples/$(basename -- "$built") ($(wc -c < "$f") bytes)"
  done
fi
