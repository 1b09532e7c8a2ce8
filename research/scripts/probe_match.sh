#!/usr/bin/env bash
# probe_match.sh MODEL.gguf [N] [SEED]: does a model compare, or only copy? Greedy llama-completion
# on N held-out match-drill prompts (`grm world corpus --match-drill`, default 40, seed 7), each in
# the ChatML turn the GRM is trained on. Prints counts of "truth|verdict|copy": truth and verdict
# are same/different (or what came out instead), copy says whether the two copies before the
# verdict were exact. Used for the match-drill table in research/models-notebook.md.
set -euo pipefail
export GRM_RESEARCH=1  # the drills and tokenizer variants are research flags (tools/research_flags.h)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL=$1 N=${2:-40} SEED=${3:-7}
GRM="${GRM_BIN:-$ROOT/build/tools/grm/grm}"
BIN="${GRM_LLAMA_BIN:-$HOME/.cache/grm/llama.cpp-npm-3.21.1/bin}"
[[ -x "$BIN/llama-completion" ]] || { echo "probe_match: no llama-completion in $BIN (run scripts/setup.sh)" >&2; exit 2; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
"$GRM" world corpus --match-drill --count "$N" --seed "$SEED" --out "$TMP/match.jsonl" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
while read -r line; do
    prompt=$(jq -j .prompt <<<"$line"; echo .)  # the "." keeps the prompt's trailing newline
    prompt=${prompt%.}
    want=$(jq -r .completion <<<"$line")
    got=$("$BIN/llama-completion" -m "$MODEL" -p "<|im_start|>user
$prompt<|im_end|>
<|im_start|>assistant
" --temp 0 -n 80 -t 1 -no-cnv --no-display-prompt 2>/dev/null | sed 's/ \[end of text\]$//' | head -n 1)
    copy=copy-bad; [[ "${want%: *}" == "${got%: *}" ]] && copy=copy-exact
    echo "${want##*: }|${got##*: }|$copy"
done <"$TMP/match.jsonl" | sort | uniq -c
