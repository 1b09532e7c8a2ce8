#!/usr/bin/env bash
# Builds grm into build/ (set-up first: apt packages and the pinned llama.cpp, both cached).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(bash "$root/scripts/setup.sh" | tail -n 1)
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DGRM_LLAMA_PREFIX="$prefix" "$@" >/dev/null
cmake --build "$root/build" -j"${GRM_JOBS:-$(nproc)}"
