#!/usr/bin/env bash
# Builds grm into build/ (set-up first: apt packages and the pinned llama.cpp, both cached).
# Usage: scripts/build.sh [--dir DIR] [extra cmake -D options]   (DIR relative to the checkout)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=build
if [ "${1:-}" = --dir ]; then
  dir=$2
  shift 2
fi
prefix=$(bash "$root/scripts/setup.sh" | tail -n 1)
cmake -S "$root" -B "$root/$dir" -DCMAKE_BUILD_TYPE=Release -DGRM_LLAMA_PREFIX="$prefix" "$@" >/dev/null
cmake --build "$root/$dir" -j"${GRM_JOBS:-$(nproc)}"
