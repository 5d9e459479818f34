#!/usr/bin/env bash
# Build the reference WASI reactor (reactor/src/main.zig) into reactor/reactor.wasm.
#
#   bash scripts/build-reactor.sh          # rebuild and update reactor/reactor.wasm
#   bash scripts/build-reactor.sh --check  # rebuild in a temp dir, compare with the committed file
#
# Needs Zig 0.15.2 exactly, from PyPI:  pip install ziglang==0.15.2
# The output is byte-reproducible: the same sources and Zig version give the same bytes.
set -euo pipefail

ZIG_VERSION=0.15.2
PYTHON=${PYTHON:-python3}

usage() { echo "usage: $0 [--check]" >&2; exit 2; }
check=0
case "${1-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) echo "usage: $0 [--check]"; exit 0 ;;
  *) usage ;;
esac
[ $# -le 1 ] || usage

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd -- "$root"

zig() { "$PYTHON" -m ziglang "$@"; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; Zig $ZIG_VERSION is run as '$PYTHON -m ziglang' (pip install ziglang==$ZIG_VERSION)" >&2
  exit 1
fi
if ! have=$(zig version 2>/dev/null); then
  echo "error: Zig is not installed for $PYTHON; install it with: pip install ziglang==$ZIG_VERSION" >&2
  exit 1
fi
if [ "$have" != "$ZIG_VERSION" ]; then
  echo "error: need Zig $ZIG_VERSION, but '$PYTHON -m ziglang version' says '$have'; install it with: pip install ziglang==$ZIG_VERSION" >&2
  exit 1
fi

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
