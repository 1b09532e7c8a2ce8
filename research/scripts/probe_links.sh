#!/usr/bin/env bash
# probe_links.sh MODEL.gguf [N] [SEED]: which link of the GRM's judgments fails, under teacher
# forcing (scripts/probe_links.py says what each column is). The trajectories are the teacher's on
# N held-out dev-split inputs (`grm world rft --split dev`, default 100, seed 7; RFT_FLAGS adds
# e.g. --quote or --match-words for a model trained on that format); the model runs in llama.cpp's
# llama-server on 127.0.0.1, one thread. Used for the link table in research/models-notebook.md.
set -euo pipefail
export GRM_RESEARCH=1  # the drills and tokenizer variants are research flags (tools/research_flags.h)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL=$1 N=${2:-100} SEED=${3:-7}
GRM="${GRM_BIN:-$ROOT/build/tools/grm/grm}"
LLAMA="${GRM_LLAMA_PREFIX:-$HOME/.cache/grm/llama.cpp-npm-3.21.1}"
[[ -x "$LLAMA/bin/llama-server" ]] || { echo "probe_links: no llama-server in $LLAMA/bin (run scripts/setup.sh)" >&2; exit 2; }
TMP=$(mktemp -d)
SERVER=
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
# shellcheck disable=SC2086
"$GRM" world rft --split dev --count "$N" --seed "$SEED" --answers 0 ${RFT_FLAGS:-} --out "$TMP/rft.jsonl" \
    >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
PORT=$((20000 + RANDOM % 20000))
LD_LIBRARY_PATH="$LLAMA/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$LLAMA/bin/llama-server" -m "$MODEL" \
    --host 127.0.0.1 --port "$PORT" -t 1 -c 2048 >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 120); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { echo "probe_links: llama-server exited:" >&2; tail -5 "$TMP/server.log" >&2; exit 1; }
    sleep 0.5
done
python3 "$ROOT/research/scripts/probe_links.py" "$TMP/rft.jsonl" "http://127.0.0.1:$PORT"
