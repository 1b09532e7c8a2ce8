#!/usr/bin/env bash
# The main job: set-up, build, then `grm score` on an example with the embedded default model
# (k = 8 sampled judgments, seed 1). Extra arguments go to `grm score`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh" >&2
"$root/build/tools/grm/grm" score --file "$root/examples/arith.json" -k 8 --seed 1 "$@"
