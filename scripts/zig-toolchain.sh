# Sourced by the wasm build scripts: parses `[--check]` into $check, and defines `zig`,
# failing clearly unless Zig is exactly the pinned version (from PyPI's ziglang package).

# shellcheck source=test/fixtures/toolchains.env
source "$(dirname -- "${BASH_SOURCE[0]}")/../test/fixtures/toolchains.env" # ZIG_VERSION
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

zig() { "$PYTHON" -m ziglang "$@"; }

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; Zig $ZIG_VERSION is run as '$PYTHON -m ziglang' (pip install ziglang==$ZIG_VERSION)" >&2
  exit 1
fi
if ! zig_found=$(zig version 2>/dev/null); then
  echo "error: Zig is not installed for $PYTHON; install it with: pip install ziglang==$ZIG_VERSION" >&2
  exit 1
fi
if [ "$zig_found" != "$ZIG_VERSION" ]; then
  echo "error: need Zig $ZIG_VERSION, but '$PYTHON -m ziglang version' says '$zig_found'; install it with: pip install ziglang==$ZIG_VERSION" >&2
  exit 1
fi
