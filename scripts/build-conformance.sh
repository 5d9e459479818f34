#!/usr/bin/env bash
# Rebuild the conformance reactors in test/fixtures/conformance/: one contract, four toolchains
# (see test/fixtures/conformance/README.md), and with each the host-function plug-in (host/<lang>/).
#
#   bash scripts/build-conformance.sh                   # rebuild and update test/fixtures/conformance/*.wasm
#   bash scripts/build-conformance.sh --check           # rebuild in a temp dir, compare with the committed files
#   bash scripts/build-conformance.sh --only go [--check]   # one of: zig c go rust markdown sqlite
#
# markdown and sqlite, the real-world reactors (cargo, crates from crates.io), are built by
# scripts/build-realworld.sh, which this script runs last with the same --check / --only.
#
# Toolchains (each build is byte-reproducible with exactly these; the versions of the committed
# bytes are in test/fixtures/toolchains.env):
#   zig   Zig 0.15.2 exactly (pip install ziglang==0.15.2, run as `python3 -m ziglang`)
#   c     clang 14 + wasm-ld 14 + Debian bookworm's wasi-libc
#         (apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32)
#   go    Go exactly as recorded (go1.26.8): the local `go` (on PATH, else /usr/local/go/bin/go) if it
#         is that release, else that release's toolchain from the Go module proxy (GOTOOLCHAIN)
#   rust  rustc with the wasm32-wasip1 target (rustup target add wasm32-wasip1)
# A missing toolchain (or one of the wrong version) prints "SKIPPED <lang>: <why>" and is not an
# error (with --only too). With --check, a build by another clang/wasi-libc or rustc than recorded
# (these cannot be pinned here), or by a local Go of the same series when the pinned one cannot be
# downloaded, prints "UNPINNED ..." and is not compared (see scripts/wasm-outputs.sh). Exit status 1
# only when a build fails or (--check) a fresh build under the recorded toolchain differs from the
# committed file.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/wasm-outputs.sh
source "$root/scripts/wasm-outputs.sh"
dir="$root/test/fixtures/conformance"

# Versions the committed .wasm files were built with (other Go/rustc releases give other bytes):
# ZIG_VERSION, CLANG_VERSION, WASI_LIBC_VERSION, GO_VERSION, RUST_VERSION.
# shellcheck source=test/fixtures/toolchains.env
source "$root/test/fixtures/toolchains.env"
CLANG_MAJOR=${CLANG_VERSION%%.*}
GO_SERIES=${GO_VERSION%.*} # go1.26
PYTHON=${PYTHON:-python3}

parse_build_args 'zig|c|go|rust|markdown|sqlite' "$@"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
out="$tmp/out"
mkdir -p "$out"

# Each build_<lang> prints the toolchain version and builds $out/<lang>.wasm, or sets $why and
# returns 1 when the toolchain is missing or not the pinned version. They run as `if` conditions,
# where set -e is off: each ends with its build command, whose status is the function's.
why=

build_zig() {
  local v
  command -v "$PYTHON" >/dev/null 2>&1 || { why="$PYTHON not found (Zig runs as '$PYTHON -m ziglang')"; return 1; }
  v=$("$PYTHON" -m ziglang version 2>/dev/null) || { why="Zig not installed for $PYTHON (pip install ziglang==$ZIG_VERSION)"; return 1; }
  [ "$v" = "$ZIG_VERSION" ] || { why="need Zig $ZIG_VERSION, found $v (pip install ziglang==$ZIG_VERSION)"; return 1; }
  echo "zig:  Zig $v"
  # Same settings as scripts/build-fixtures.sh; fresh cache dir: nothing stale.
  (cd -- "$dir/zig" && "$PYTHON" -m ziglang build-exe conformance.zig -target wasm32-wasi -O ReleaseSmall -fstrip \
    -fno-entry -rdynamic -mexec-model=reactor --stack 65536 \
    --name conformance --cache-dir "$tmp/zig-cache" -femit-bin="$out/zig.wasm") &&
  (cd -- "$dir/host/zig" && "$PYTHON" -m ziglang build-exe host.zig -target wasm32-wasi -O ReleaseSmall -fstrip \
    -fno-entry -rdynamic -mexec-model=reactor --stack 65536 \
    --name host --cache-dir "$tmp/zig-cache" -femit-bin="$out/host-zig.wasm")
}

build_c() {
  local v major libc
  command -v clang >/dev/null 2>&1 || { why="clang not found (apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32)"; return 1; }
  v=$(clang --version | sed -n '1s/.*clang version \([0-9][0-9.]*\).*/\1/p')
  major=${v%%.*}
  [ "$major" = "$CLANG_MAJOR" ] || { why="need clang $CLANG_MAJOR (Debian bookworm), found '${v:-unknown}'"; return 1; }
  command -v wasm-ld >/dev/null 2>&1 || { why="wasm-ld not found (apt-get install -y lld)"; return 1; }
  [ -f /usr/lib/wasm32-wasi/crt1-reactor.o ] || { why="wasi-libc not found in /usr/lib/wasm32-wasi (apt-get install -y wasi-libc)"; return 1; }
  [ -f "$(clang --target=wasm32-wasi -print-libgcc-file-name)" ] || { why="no wasm32 compiler-rt builtins (apt-get install -y libclang-rt-14-dev-wasm32)"; return 1; }
  libc=$(dpkg-query -W -f='${Version}' wasi-libc 2>/dev/null || echo unknown)
  echo "c:    clang $v, wasi-libc $libc"
  [ "$v" = "$CLANG_VERSION" ] && [ "$libc" = "$WASI_LIBC_VERSION" ] ||
    unpinned[c]="clang $v, wasi-libc $libc (committed bytes from clang $CLANG_VERSION, wasi-libc $WASI_LIBC_VERSION)"
  # crt1-reactor.o gives _initialize (runs the constructors); exports come from export_name
  # attributes in the source; no debug info, names stripped; 64 KiB stack (wasm-ld's default, pinned).
  (cd -- "$dir/c" && clang --target=wasm32-wasi -mexec-model=reactor -Os -Wall -Wextra \
    -Wl,--strip-all -Wl,-z,stack-size=65536 -o "$out/c.wasm" conformance.c) &&
  (cd -- "$dir/host/c" && clang --target=wasm32-wasi -mexec-model=reactor -Os -Wall -Wextra \
    -Wl,--strip-all -Wl,-z,stack-size=65536 -o "$out/host-c.wasm" host.c)
}

build_go() {
  local go v goroot
  go=$(command -v go || true)
  [ -n "$go" ] || go=/usr/local/go/bin/go
  [ -x "$go" ] || { why="go not found on PATH or at /usr/local/go/bin/go (need $GO_VERSION)"; return 1; }
  v=$(GOTOOLCHAIN=local "$go" env GOVERSION)
  if [ "$v" != "$GO_VERSION" ]; then
    # The exact release from the module proxy (checked against sum.golang.org, cached in GOMODCACHE);
    # `go env GOROOT` runs in the toolchain GOTOOLCHAIN selects and names where it lives.
    if goroot=$(GOTOOLCHAIN=$GO_VERSION "$go" env GOROOT 2>"$tmp/go-toolchain.log") && [ -x "$goroot/bin/go" ] &&
      [ "$(GOTOOLCHAIN=local "$goroot/bin/go" env GOVERSION)" = "$GO_VERSION" ]; then
      echo "note: local Go is $v; $GO_VERSION comes from the Go module proxy ($goroot)"
      go=$goroot/bin/go
      v=$GO_VERSION
    else
      case "$v" in "$GO_SERIES"|"$GO_SERIES".*) ;; *) why="need $GO_VERSION, found $v, and GOTOOLCHAIN=$GO_VERSION failed: $(tail -n1 "$tmp/go-toolchain.log")"; return 1 ;; esac
      echo "note: GOTOOLCHAIN=$GO_VERSION failed: $(tail -n1 "$tmp/go-toolchain.log")"
      unpinned[go]="local $v ($GO_VERSION could not be downloaded; committed bytes from $GO_VERSION)"
    fi
  fi
  echo "go:   $v"
  # c-shared: a reactor with _initialize (runtime start + package init), main never runs.
  # Everything that could change the bytes is pinned: no VCS stamp, no build id, no paths,
  # no names section/DWARF, default wasm features/experiments, no toolchain download, no network.
  (cd -- "$dir/go" && env GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=off GOWORK=off \
    GOFLAGS=-buildvcs=false GOWASM= GOEXPERIMENT= \
    "$go" build -buildmode=c-shared -trimpath -ldflags='-s -w -buildid=' -o "$out/go.wasm" .) &&
  (cd -- "$dir/host/go" && env GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 GOTOOLCHAIN=local GOPROXY=off GOWORK=off \
    GOFLAGS=-buildvcs=false GOWASM= GOEXPERIMENT= \
    "$go" build -buildmode=c-shared -trimpath -ldflags='-s -w -buildid=' -o "$out/host-go.wasm" .)
}

build_rust() {
  local v
  command -v rustc >/dev/null 2>&1 || { why="rustc not found"; return 1; }
  v=$(rustc --version)
  [ -d "$(rustc --print sysroot)/lib/rustlib/wasm32-wasip1" ] || { why="$v has no wasm32-wasip1 target (rustup target add wasm32-wasip1)"; return 1; }
  echo "rust: $v"
  case "$v" in "rustc $RUST_VERSION "*) ;; *) unpinned[rust]="$v (committed bytes from rustc $RUST_VERSION; std is prebuilt per release)" ;; esac
  # No cargo, no crates. Relative source path plus remap: no absolute paths in panic locations.
  mkdir -p "$tmp/rust"
  (cd -- "$dir/rust" && rustc --edition 2024 --target wasm32-wasip1 --crate-type cdylib --crate-name conformance \
    -C opt-level=s -C panic=abort -C strip=symbols -C link-arg=-zstack-size=65536 \
    --remap-path-prefix="$PWD=." -o "$tmp/rust/conformance.wasm" conformance.rs) &&
    mv -- "$tmp/rust/conformance.wasm" "$out/rust.wasm" &&
  (cd -- "$dir/host/rust" && rustc --edition 2024 --target wasm32-wasip1 --crate-type cdylib --crate-name host \
    -C opt-level=s -C panic=abort -C strip=symbols -C link-arg=-zstack-size=65536 \
    --remap-path-prefix="$PWD=." -o "$tmp/rust/host.wasm" host.rs) &&
    mv -- "$tmp/rust/host.wasm" "$out/host-rust.wasm"
}

built=()
for lang in zig c go rust; do
  [ -z "$only" ] || [ "$only" = "$lang" ] || continue
  why=
  if "build_$lang"; then
    # Each toolchain also builds the host-function plug-in (host/<lang>/): host-<lang>.wasm.
    built+=("$lang" "host-$lang")
  elif [ -n "$why" ]; then
    echo "SKIPPED $lang: $why"
  else
    echo "error: building $lang.wasm failed" >&2; exit 1
  fi
done

# --- install or compare -----------------------------------------------------
cd -- "$dir"
bad=0
install_or_check "$check" "$out" build-conformance.sh ${built[@]+"${built[@]}"} || bad=1
case "$only" in
  ""|markdown|sqlite)
    realworld=()
    [ "$check" = 0 ] || realworld+=(--check)
    [ -z "$only" ] || realworld+=(--only "$only")
    bash "$root/scripts/build-realworld.sh" ${realworld[@]+"${realworld[@]}"} || bad=1
    ;;
esac
[ "$bad" = 0 ]
