#!/usr/bin/env bash
# Rebuild the real-world reactors in test/fixtures/conformance/: Rust cdylibs built with cargo from
# crates.io libraries (see test/fixtures/conformance/README.md, "Real-world reactors").
# Run by scripts/build-conformance.sh (which passes --check and --only on); runs alone too:
#
#   bash scripts/build-realworld.sh                        # rebuild and update markdown.wasm, sqlite.wasm
#   bash scripts/build-realworld.sh --check                # rebuild in a temp dir, compare with the committed files
#   bash scripts/build-realworld.sh --only sqlite [--check]   # one of: markdown sqlite
#
# Toolchains (each build is byte-reproducible with exactly these):
#   markdown  cargo + rustc with the wasm32-wasip1 target; committed bytes from 1.95.0; crates from
#             crates.io at the versions in markdown/Cargo.lock (cargo --locked)
#   sqlite    the same, plus clang 14 and Debian bookworm's wasi-libc headers to compile SQLite's C
#             (apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32)
# A missing toolchain, or crates.io out of reach, prints "SKIPPED <name>: <why>" and is not an
# error. With --check, a build by another rustc or clang/wasi-libc than test/fixtures/toolchains.env
# records prints "UNPINNED ..." and is not compared (see scripts/wasm-outputs.sh). Exit status 1 only
# when a build fails or (--check) a fresh build under the recorded toolchains differs from the committed file.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/wasm-outputs.sh
source "$root/scripts/wasm-outputs.sh"
dir="$root/test/fixtures/conformance"

# RUST_VERSION, CLANG_VERSION, WASI_LIBC_VERSION: what the committed bytes were built with.
# shellcheck source=test/fixtures/toolchains.env
source "$root/test/fixtures/toolchains.env"
CLANG_MAJOR=${CLANG_VERSION%%.*}
# SQLite compile options on top of libsqlite3-sys's own (its build.rs already sets
# SQLITE_THREADSAFE=0 for wasm32-wasi*): in-memory databases only, so no extension loading, no WAL,
# no mmap, temp tables in memory; the bundled FTS3/FTS5/R-tree/dbstat/STAT4 extensions undefined
# (about half the size); a low expression depth so deep nesting is an SQL error, not a stack overflow.
SQLITE_FLAGS="-DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_TEMP_STORE=3
  -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_MAX_EXPR_DEPTH=100
  -USQLITE_ENABLE_FTS3 -USQLITE_ENABLE_FTS3_PARENTHESIS -USQLITE_ENABLE_FTS5 -USQLITE_ENABLE_RTREE
  -USQLITE_ENABLE_DBSTAT_VTAB -USQLITE_ENABLE_STAT4"

parse_build_args 'markdown|sqlite' "$@"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
out="$tmp/out"
mkdir -p "$out"
cargo_home=${CARGO_HOME:-$HOME/.cargo}

# Each check_<name> prints the toolchain versions or sets $why and returns 1.
why=

check_rust() {
  local v
  command -v cargo >/dev/null 2>&1 || { why="cargo not found"; return 1; }
  command -v rustc >/dev/null 2>&1 || { why="rustc not found"; return 1; }
  v=$(rustc --version)
  [ -d "$(rustc --print sysroot)/lib/rustlib/wasm32-wasip1" ] || { why="$v has no wasm32-wasip1 target (rustup target add wasm32-wasip1)"; return 1; }
  echo "$1: $v, $(cargo --version)"
  case "$v" in "rustc $RUST_VERSION "*) ;; *) unpinned[$1]="$v (committed bytes from rustc $RUST_VERSION)" ;; esac
}

# clang 14 compiles SQLite for wasm32-wasi against Debian's wasi-libc headers; the link is rustc's
# (its own self-contained wasi-libc). Sets $sqlite_cc and $sqlite_ar.
sqlite_cc= sqlite_ar=
check_clang() {
  local v major libc
  command -v clang >/dev/null 2>&1 || { why="clang not found (apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32)"; return 1; }
  v=$(clang --version | sed -n '1s/.*clang version \([0-9][0-9.]*\).*/\1/p')
  major=${v%%.*}
  [ "$major" = "$CLANG_MAJOR" ] || { why="need clang $CLANG_MAJOR (Debian bookworm), found '${v:-unknown}'"; return 1; }
  [ -f /usr/include/wasm32-wasi/stdio.h ] || { why="wasi-libc headers not found in /usr/include/wasm32-wasi (apt-get install -y wasi-libc)"; return 1; }
  sqlite_ar=$(command -v "llvm-ar-$CLANG_MAJOR" || command -v llvm-ar || true)
  [ -n "$sqlite_ar" ] || { why="llvm-ar not found (apt-get install -y llvm-$CLANG_MAJOR)"; return 1; }
  sqlite_cc=$(command -v clang)
  libc=$(dpkg-query -W -f='${Version}' wasi-libc 2>/dev/null || echo unknown)
  echo "sqlite: clang $v, wasi-libc $libc, $sqlite_ar"
  [ "$v" = "$CLANG_VERSION" ] && [ "$libc" = "$WASI_LIBC_VERSION" ] ||
    unpinned[sqlite]="${unpinned[sqlite]:+${unpinned[sqlite]}; }clang $v, wasi-libc $libc (committed bytes from clang $CLANG_VERSION, wasi-libc $WASI_LIBC_VERSION)"
}

# Downloads the locked crates (the only network step); unreachable crates.io is a SKIPPED.
fetch_crates() {
  local log="$tmp/fetch-$1.log"
  (cd -- "$dir/$1" && cargo fetch --locked --target wasm32-wasip1) >"$log" 2>&1 && return 0
  if grep -q -e 'lock file' -e '--locked' "$log"; then cat "$log" >&2; return 2; fi # Cargo.lock out of date: a real error
  why="cargo could not fetch the crates from crates.io: $(grep -m1 -i 'error' "$log" || tail -n1 "$log")"
  return 1
}

# cargo build --locked --release of one crate into its own target dir under $tmp, then
# $out/<name>.wasm. Every absolute path that could reach the binary (panic locations, C __FILE__)
# is remapped: the source folder, cargo's registry and the temp dir (OUT_DIR).
cargo_build() {
  local name=$1 target="$tmp/target-$1"
  local sep=$'\x1f'
  (cd -- "$dir/$name" && env CARGO_TARGET_DIR="$target" CARGO_INCREMENTAL=0 \
    CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$dir=/conformance$sep--remap-path-prefix=$cargo_home=/cargo$sep--remap-path-prefix=$tmp=/build" \
    CFLAGS_wasm32_wasip1="--target=wasm32-wasi -ffile-prefix-map=$dir=/conformance -ffile-prefix-map=$cargo_home=/cargo -ffile-prefix-map=$tmp=/build" \
    CC_wasm32_wasip1="$sqlite_cc" AR_wasm32_wasip1="$sqlite_ar" LIBSQLITE3_FLAGS="$SQLITE_FLAGS" \
    cargo build --locked --offline --release --target wasm32-wasip1 ${CARGO_BUILD_JOBS:+-j "$CARGO_BUILD_JOBS"}) &&
    cp -- "$target/wasm32-wasip1/release/$name.wasm" "$out/$name.wasm"
}

build() {
  local name=$1 status
  check_rust "$name" || return 1
  if [ "$name" = sqlite ]; then check_clang || return 1; fi
  fetch_crates "$name" || { status=$?; [ "$status" = 2 ] && why=; return 1; }
  local start=$SECONDS
  cargo_build "$name" || { why=; return 1; }
  echo "$name: built in $((SECONDS - start)) s"
}

built=()
for name in markdown sqlite; do
  [ -z "$only" ] || [ "$only" = "$name" ] || continue
  why=
  if build "$name"; then
    built+=("$name")
  elif [ -n "$why" ]; then
    echo "SKIPPED $name: $why"
  else
    echo "error: building $name.wasm failed" >&2; exit 1
  fi
done

# --- install or compare -----------------------------------------------------
cd -- "$dir"
install_or_check "$check" "$out" build-realworld.sh ${built[@]+"${built[@]}"}
