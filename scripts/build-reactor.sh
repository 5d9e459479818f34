#!/usr/bin/env bash
# Build the reference WASI reactor (reactor/src/main.zig) into reactor/reactor.wasm.
#
#   bash scripts/build-reactor.sh          # rebuild and update reactor/reactor.wasm
#   bash scripts/build-reactor.sh --check  # rebuild in a temp dir, compare with the committed file
#
# Needs Zig 0.15.2 exactly, from PyPI:  pip install ziglang==0.15.2
# The output is byte-reproducible: the same sources and Zig version give the same bytes.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/zig-toolchain.sh
source "$root/scripts/zig-toolchain.sh"
cd -- "$root"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# Build into a private prefix (and, for --check, a fresh cache) so nothing stale is reused.
cache_args=()
if [ "$check" = 1 ]; then cache_args=(--cache-dir "$tmp/cache"); fi
(cd reactor && zig build --prefix "$tmp/out" "${cache_args[@]}")
built="$tmp/out/bin/reactor.wasm"
[ -f "$built" ] || { echo "error: zig build produced no $built" >&2; exit 1; }

if [ "$check" = 1 ]; then
  if [ ! -f reactor/reactor.wasm ]; then
    echo "error: reactor/reactor.wasm is missing; run: bash scripts/build-reactor.sh" >&2
    exit 1
  fi
  if ! cmp -s "$built" reactor/reactor.wasm; then
    echo "error: reactor/reactor.wasm differs from a fresh build of reactor/src/main.zig" >&2
    echo "  committed: $(sha256sum reactor/reactor.wasm | cut -d' ' -f1)" >&2
    echo "  rebuilt:   $(sha256sum "$built" | cut -d' ' -f1)" >&2
    echo "  run: bash scripts/build-reactor.sh  (and commit reactor/reactor.wasm)" >&2
    exit 1
  fi
  echo "ok: reactor/reactor.wasm matches a fresh build ($(sha256sum "$built" | cut -d' ' -f1))"
else
  cp -- "$built" reactor/reactor.wasm
  chmod 644 reactor/reactor.wasm
  echo "built reactor/reactor.wasm ($(wc -c < reactor/reactor.wasm) bytes, sha256 $(sha256sum reactor/reactor.wasm | cut -d' ' -f1))"
fi
