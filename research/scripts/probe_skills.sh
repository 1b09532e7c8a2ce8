#!/usr/bin/env bash
# probe_skills.sh MODEL.gguf [N] [SEED]: can a model do the curriculum's skills on their own?
# Greedy exact match of llama.cpp's llama-completion on N held-out prompts per skill (copy,
# restate, match, work, answer) from `grm world corpus --count 300 --seed SEED` (default 7: neither
# the recipe's seed nor its lexicon split), each wrapped in the ChatML turn the GRM is trained on.
# quote: the quote drill (`grm world corpus --quote-drill`, same seed): all 2-4 response blocks
# of a judge prompt copied back exactly. repeat: the repeat drill (`grm world corpus --repeat-drill`,
# same seed): random text repeated back, which only an in-context copy can do. match-drill: the
# match drill (`grm world corpus --match-drill`, same seed): two random answers copied and called
# same or different. SKILLS picks the skills (default: all eight).
# Used for the copying diagnosis in research/models-notebook.md.
set -euo pipefail
export GRM_RESEARCH=1  # the drills and tokenizer variants are research flags (tools/research_flags.h)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL=$1 N=${2:-20} SEED=${3:-7}
GRM="${GRM_BIN:-$ROOT/build/tools/grm/grm}"
BIN="${GRM_LLAMA_BIN:-$HOME/.cache/grm/llama.cpp-npm-3.21.1/bin}"
[[ -x "$BIN/llama-completion" ]] || { echo "probe_skills: no llama-completion in $BIN (run scripts/setup.sh)" >&2; exit 2; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
"$GRM" world corpus --count 300 --seed "$SEED" --out "$TMP/corpus.jsonl" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
"$GRM" world corpus --quote-drill --count "$N" --seed "$SEED" --out "$TMP/quote.jsonl" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
"$GRM" world corpus --repeat-drill --count "$N" --seed "$SEED" --out "$TMP/repeat.jsonl" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
"$GRM" world corpus --match-drill --count "$N" --seed "$SEED" --out "$TMP/match.jsonl" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
for skill in ${SKILLS:-copy restate match work answer quote repeat match-drill}; do
    ok=0 total=0
    while read -r line; do
        # (the "." keeps a prompt's trailing newline, which $(...) would strip)
        prompt=$(jq -j .prompt <<<"$line"; echo .) want=$(jq -r .completion <<<"$line")
        prompt=${prompt%.}
        got=$("$BIN/llama-completion" -m "$MODEL" -p "<|im_start|>user
$prompt<|im_end|>
<|im_start|>assistant
" --temp 0 -n 400 -t 1 -no-cnv --no-display-prompt 2>/dev/null | sed 's/ \[end of text\]$//')
        total=$((total + 1)); [[ "$got" == "$want" ]] && ok=$((ok + 1))
    done < <(jq -c --arg s "$skill" 'select(.skill == $s)' "$TMP/corpus.jsonl" "$TMP/quote.jsonl" "$TMP/repeat.jsonl" "$TMP/match.jsonl" | head -n "$N")
    echo "$skill: $ok / $total"
done
