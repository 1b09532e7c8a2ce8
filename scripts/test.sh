#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, build, then every test binary through CTest.
# Usage: scripts/test.sh [--sanitize] [ctest options]
#   --sanitize: the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer into
#   build-asan/ (CTest passes the options and the suppressions in tests/sanitizers/ to every test).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=build
extra=()
if [ "${1:-}" = --sanitize ]; then
  shift
  dir=build-asan
  extra=(-DGRM_SANITIZE=ON)
fi
bash "$root/scripts/build.sh" --dir "$dir" "${extra[@]}"
cd "$root/$dir"
ctest --output-on-failure --timeout 600 "$@"
