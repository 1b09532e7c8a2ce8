#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, build, then every test binary through CTest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure --timeout 600 "$@"
