# shellcheck shell=bash
# Sourced by the conformance build scripts: their shared command line, and the step that installs
# freshly built .wasm files next to their sources or (with --check) compares them with the committed ones.
#
#   parse_build_args 'NAME|NAME...' "$@"
#     Reads [--check] [--only NAME]; sets `check` (1 or 0) and `only` (a NAME or empty). A usage
#     mistake exits 2; --help prints the usage and exits 0.
#
#   install_or_check CHECK OUT_DIR SCRIPT NAME...
#     CHECK: 1 to compare, 0 to install; OUT_DIR: where the fresh builds are; SCRIPT: the build
#     script to name in the hint; NAME: modules built (NAME.wasm). Run from the fixtures folder.
#     Returns 1 if a committed file is missing or differs. A NAME that is a key of `unpinned`
#     (built by another toolchain version than test/fixtures/toolchains.env records; the value
#     says which) is not compared: see hand_over_unpinned.
#
#   hand_over_unpinned REL_PATH BUILT_FILE WHY
#     For a build whose bytes are not compared: says so (a line starting `UNPINNED`) and, when
#     REACTOR_POOL_FRESH_FIXTURES names a directory, copies the build there as REL_PATH (relative to
#     test/fixtures/), where the tests' fixture() finds it first: its behaviour is checked instead.
declare -A unpinned=()

hand_over_unpinned() {
  local rel=$1 built=$2 why=$3
  if [ -n "${REACTOR_POOL_FRESH_FIXTURES:-}" ]; then
    mkdir -p -- "$(dirname -- "$REACTOR_POOL_FRESH_FIXTURES/$rel")"
    cp -- "$built" "$REACTOR_POOL_FRESH_FIXTURES/$rel"
    echo "UNPINNED test/fixtures/$rel: $why; bytes not compared, the tests run against this build"
  else
    echo "UNPINNED test/fixtures/$rel: $why; bytes not compared (set REACTOR_POOL_FRESH_FIXTURES=DIR to keep the build for the tests)"
  fi
}

install_or_check() {
  local check=$1 out=$2 script=$3 bad=0 name f
  shift 3
  for name in "$@"; do
    f=$name.wasm
    if [ "$check" = 1 ] && [ -n "${unpinned[$name]+x}" ]; then
      hand_over_unpinned "conformance/$f" "$out/$f" "built by ${unpinned[$name]}"
    elif [ "$check" = 1 ]; then
      if [ ! -f "$f" ]; then
        echo "error: test/fixtures/conformance/$f is missing" >&2; bad=1
      elif ! cmp -s "$out/$f" "$f"; then
        echo "error: test/fixtures/conformance/$f differs from a fresh build of $name/" >&2
        echo "  committed: $(sha256sum "$f" | cut -d' ' -f1)" >&2
        echo "  rebuilt:   $(sha256sum "$out/$f" | cut -d' ' -f1)" >&2
        bad=1
      else
        echo "ok: $f matches a fresh build ($(wc -c < "$f") bytes)"
      fi
    else
      cp -- "$out/$f" "$f"
      chmod 644 "$f"
      echo "built test/fixtures/conformance/$f ($(wc -c < "$f") bytes)"
    fi
  done
  if [ "$bad" != 0 ]; then
    echo "run: bash scripts/$script  (and commit test/fixtures/conformance/*.wasm)" >&2
    return 1
  fi
}

parse_build_args() {
  local names=$1 usage
  shift
  usage="usage: $0 [--check] [--only $names]"
  check=0
  only=
  while [ $# -gt 0 ]; do
    case "$1" in
      --check) check=1 ;;
      --only) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; only=$2; shift ;;
      -h|--help) echo "$usage"; exit 0 ;;
      *) echo "$usage" >&2; exit 2 ;;
    esac
    shift
  done
  if [ -n "$only" ] && [[ "|$names|" != *"|$only|"* ]]; then echo "$usage" >&2; exit 2; fi
}
