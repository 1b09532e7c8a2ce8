#!/usr/bin/env bash
# recipe_copyhead.sh: the GRM recipe rebuilt around in-context copying (research/models-notebook.md, "In-context
# copying"): a candidate to replace scripts/recipe.sh's default once it judges better on dev.
#
# What differs from recipe.sh: the model first learns to copy unseen text (the repeat drill forms
# an induction head in about 600 steps of 8 x 256 from scratch), the vocabulary has the prompt's
# response markers as single tokens (grm-spm --response-markers 4), the RFT trajectories quote each
# response before judging it (grm world rft --quote), and repeat records stay mixed into every
# later stage (a pure stage erases the copy head, and a pure drill erases the other skills).
# Resumable stages under one output directory (default runs/copyhead/, git-ignored):
#   a. data       grm world rft --quote (train split, N_RFT = 3, hinted, plain answers), the
#                 curriculum corpus, the repeat drill (seed + 2), the quote drill (seed + 3), dev, test
#   b. tokenizer  grm-spm train --response-markers 4 (BPE, split digits, byte fallback); with
#                 WORD_PIECES=N instead single characters plus the N most frequent words as whole
#                 pieces (grm-spm --word-pieces N: a quoted word is letters, so spelling is copying)
#   c. copyhead   the repeat drill alone, from scratch
#   d. curriculum the skills corpus + plain answers + repeat records, from c
#   e. rft        quoted RFT trajectories + copy/restate/match + quote drill + repeat, from d
#   f. rft2       e's data + the curriculum's work and answer records, from e
#   g. export     f16 GGUF (size checked), one grm score must parse, skill probe, quote blocks
#   h. eval       dev (greedy, first DEV_EVAL items) to choose against the default; then the test
#                 split as recipe.sh evaluates it
# Run (repository root, after scripts/setup.sh and a build of grm and grm-spm):
#   scripts/recipe_copyhead.sh
#   OUT=runs/smoke-copyhead SMOKE=1 scripts/recipe_copyhead.sh   # a few steps and items
# Resume: run the same command again (as recipe.sh). Fixed seed: SEED (default 20261126).
set -euo pipefail

export GRM_RESEARCH=1  # the drills and tokenizer variants are research flags (tools/research_flags.h)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

OUT="${OUT:-runs/copyhead}"
SEED="${SEED:-20261126}"
THREADS="${THREADS:-1}"
SMOKE="${SMOKE:-0}"
GRM="${GRM_BIN:-build/tools/grm/grm}"
SPM="${GRM_SPM:-build/tools/grm-spm/grm-spm}"

RFT_INPUTS="${RFT_INPUTS:-6000}" CORPUS="${CORPUS:-40000}" DEV="${DEV:-900}" TEST="${TEST:-180}" VOCAB="${VOCAB:-2000}"
REPEAT="${REPEAT:-40000}"          # repeat-drill records (c uses all; d, e, f mix in REPEAT_MIX each)
REPEAT_MIX="${REPEAT_MIX:-10000}"
QUOTE="${QUOTE:-8000}"             # quote-drill records (e, f)
WORD_PIECES="${WORD_PIECES:-0}"     # 0: a BPE of VOCAB pieces; N: characters + N whole words
MARKERS=4                          # [Response k] pieces for k = 1..4 (the world's n is 1..4)
# The default's shape with a context for quoted trajectories (they run to about 660 tokens).
N_CTX=1536 N_EMBD="${N_EMBD:-192}" N_LAYER="${N_LAYER:-4}" N_HEAD=6 N_HEAD_KV=2 N_FF="${N_FF:-512}"
C_STEPS="${C_STEPS:-1000}"   C_BATCH=8 C_SEQ=256  C_LR=2e-3 C_WARMUP=30
D_STEPS="${D_STEPS:-1200}"  D_BATCH=4 D_SEQ=512  D_LR=2e-3 D_WARMUP=20
E_STEPS="${E_STEPS:-2000}"  E_BATCH=2 E_SEQ=1024 E_LR=1e-3 E_WARMUP=30
F_STEPS="${F_STEPS:-2000}"  F_BATCH=2 F_SEQ=1024 F_LR=1e-3 F_WARMUP=30
MAX_TOKENS=768                     # a quoted judgment of four responses needs more than 512
DEV_EVAL="${DEV_EVAL:-90}"
EVAL_K="1,2,4,8,16,32" EVAL_T=0.5 PROBE_N=20 MAX_GGUF_MB=25
SAVE_EVERY="${SAVE_EVERY:-25}"

if [[ "$SMOKE" == 1 ]]; then
    RFT_INPUTS=60 CORPUS=300 DEV=20 TEST=9 VOCAB=1000 REPEAT=200 REPEAT_MIX=50 QUOTE=50
    C_STEPS=4 D_STEPS=4 E_STEPS=4 F_STEPS=4 C_WARMUP=1 D_WARMUP=1 E_WARMUP=1 F_WARMUP=1
    DEV_EVAL=9 EVAL_K="1,2,4" PROBE_N=2 SAVE_EVERY=2
fi

D="$OUT"
mkdir -p "$D"/data "$D"/tok "$D"/eval
LOG="$D/recipe.log"
T0=$(date +%s)
source "$ROOT/scripts/recipe_lib.sh"

require_tools

# ---- a. data ----
stage "a: data"
gen_once() {  # gen_once OUT CMD...: a grm world command writing --out OUT, skipped when OUT exists
    local out=$1; shift
    [[ -s "$out" ]] || run "$@" --out "$out"
}
gen_once "$D/data/rft.jsonl" "$GRM" world rft --quote --count "$RFT_INPUTS" --seed "$SEED" --report "$D/data/rft.md"
gen_once "$D/data/corpus.jsonl" "$GRM" world corpus --count "$CORPUS" --seed "$SEED"
gen_once "$D/data/repeat.jsonl" "$GRM" world corpus --repeat-drill --count "$REPEAT" --seed "$((SEED + 2))"
gen_once "$D/data/quote.jsonl" "$GRM" world corpus --quote-drill --count "$QUOTE" --seed "$((SEED + 3))"
gen_once "$D/data/dev.jsonl" "$GRM" world gen --split dev --count "$DEV" --seed "$SEED"
gen_once "$D/data/test.jsonl" "$GRM" world gen --split test --count "$TEST" --seed "$SEED"
# repeat_part K: the K-th block of REPEAT_MIX repeat records (each later stage gets fresh ones).
repeat_part() { sed -n "$(( $1 * REPEAT_MIX + 1 )),$(( ($1 + 1) * REPEAT_MIX ))p" "$D/data/repeat.jsonl" | chatml /dev/stdin; }
work_answer() { jq -c 'select(.skill == "work" or .skill == "answer")' "$D/data/corpus.jsonl" | chatml /dev/stdin; }
stage_d_data() { chatml "$D/data/corpus.jsonl"; repeat_part 0; }
stage_e_data() { chatml "$D/data/rft.jsonl"; skills "$D/data/corpus.jsonl"; chatml "$D/data/quote.jsonl"; repeat_part 1; }
stage_f_data() { stage_e_data; work_answer; repeat_part 2; }
write_once "$D/data/stage-c.jsonl" chatml "$D/data/repeat.jsonl"
write_once "$D/data/stage-d.jsonl" stage_d_data
write_once "$D/data/stage-e.jsonl" stage_e_data
write_once "$D/data/stage-f.jsonl" stage_f_data
wc -l "$D"/data/stage-?.jsonl | tee "$D/data/counts.txt" >> "$LOG"

# ---- b. tokenizer ----
stage "b: tokenizer"
if [[ ! -s "$D/tok/vocab.gguf" ]]; then
    log "\$ jq -r '.prompt, .completion' corpus.jsonl rft.jsonl > tok/train.txt"
    jq -r '.prompt, .completion' "$D/data/corpus.jsonl" "$D/data/rft.jsonl" | grep -v '^[[:space:]]*$' > "$D/tok/train.txt"
    words=(); [[ "$WORD_PIECES" == 0 ]] || words=(--word-pieces "$WORD_PIECES")
    run "$SPM" train --input "$D/tok/train.txt" --vocab-size "$VOCAB" --out "$D/tok/vocab.gguf" \
        --model-prefix "$D/tok/spm" --threads "$THREADS" --max-lines 400000 --response-markers "$MARKERS" "${words[@]}"
fi
N_WORDS=0; [[ -s "$D/tok/spm.words" ]] && N_WORDS=$(wc -l < "$D/tok/spm.words")
N_VOCAB=$(( $(wc -l < "$D/tok/spm.vocab") + 2 + 2 * MARKERS + N_WORDS ))
log "vocabulary: $N_VOCAB pieces (with $(( 2 + 2 * MARKERS )) marker pieces and $N_WORDS word pieces)"
write_model_json "$N_VOCAB"

# ---- c-f. training ----
stage "c-f: copy head, curriculum, quoted RFT, RFT with work and answers"
train_stage "$D/stage-c" "$D/data/stage-c.jsonl" "$C_STEPS" "$C_BATCH" "$C_SEQ" "$C_LR" "$C_WARMUP"
train_stage "$D/stage-d" "$D/data/stage-d.jsonl" "$D_STEPS" "$D_BATCH" "$D_SEQ" "$D_LR" "$D_WARMUP" "$D/stage-c"
train_stage "$D/stage-e" "$D/data/stage-e.jsonl" "$E_STEPS" "$E_BATCH" "$E_SEQ" "$E_LR" "$E_WARMUP" "$D/stage-d"
train_stage "$D/stage-f" "$D/data/stage-f.jsonl" "$F_STEPS" "$F_BATCH" "$F_SEQ" "$F_LR" "$F_WARMUP" "$D/stage-e"

# ---- g. export and checks ----
stage "g: export"
GGUF="$D/grm-copyhead.gguf"
export_checked "$D/stage-f" "$GGUF" grm-copyhead "$MAX_TOKENS"
GRM_BIN="$GRM" write_once "$D/eval/quote-blocks.txt" python3 "$ROOT/research/scripts/quote_blocks.py" "$GGUF" "$PROBE_N" \
    || log "quote-block count failed"

# ---- h. eval ----
stage "h: eval (dev greedy, then the test split)"
head -n "$DEV_EVAL" "$D/data/dev.jsonl" > "$D/eval/dev-head.jsonl"
if ! done_or "$D/eval/dev"; then
    run "$GRM" eval --data "$D/eval/dev-head.jsonl" -m "$GGUF" -o "$D/eval/dev" -k 1 --greedy -t "$EVAL_T" \
        --seed "$SEED" --threads "$THREADS" --max-tokens "$MAX_TOKENS"
    touch "$D/eval/dev/DONE"
fi
if ! done_or "$D/eval/test"; then
    run "$GRM" eval --data "$D/data/test.jsonl" -m "$GGUF" -o "$D/eval/test" -k "$EVAL_K" --greedy \
        -t "$EVAL_T" --seed "$SEED" --threads "$THREADS" --max-tokens "$MAX_TOKENS"
    touch "$D/eval/test/DONE"
fi
log "recipe_copyhead finished in $(( $(date +%s) - T0 )) s: $D/eval/dev/report.md, $D/eval/test/report.md"
