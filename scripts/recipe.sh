#!/usr/bin/env bash
# recipe.sh: grm's small-scale GRM recipe, on a CPU, from nothing: $OUT/grm-cpu.gguf.
# Not the embedded default: about 14 M positions leave this model at chance on the judge world
# (research/models-notebook.md); the default is GPU-trained (scripts/recipe_gpu.sh, models/README.md).
#
# What it does (issue 4, SPCT stage 1 on the judge world), in resumable stages under one output
# directory (default runs/cpu/, git-ignored):
#   a. data       grm world rft (train split, N_RFT = 3, hinted, plain answers), grm world corpus
#                 (curriculum of plain skills + answers; a second one for the copy drill),
#                 grm world gen (dev and test splits)
#   b. tokenizer  grm-spm: SentencePiece BPE (split digits, byte fallback) -> vocab-only GGUF
#   c. stage1     curriculum pretraining on the skills corpus (loss on the completion)
#   d. stage2     rejective fine-tuning from stage1: kept + hinted-if-right trajectories + answers
#   e. stage3     copy drill from stage2: copy/restate/match tasks only, many short steps
#   f. stage4     rejective fine-tuning again from stage3, copy/restate/match records mixed in
#   g. export     grm export -> GGUF f16 (size checked); greedy skill probe (research/scripts/probe_skills.sh),
#                 teacher-forced link probe (research/scripts/probe_links.sh)
#   h. eval       grm eval on the test split: greedy + voting@1..32 at T = 0.5 from one set of 32
#                 samples per item; grm world teacher on the same split for comparison
# The schedule of c-f lives in scripts/recipe_lib.sh (shared with recipe_stage2.sh's ablations).
# Every training example is in the exact format of inference: the prompt is the ChatML wrap that
# llama.cpp's chat template produces (<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n,
# tokenized with BOS and special tokens), the completion is {text}<|im_end|>.
#
# Run (from the repository root, after scripts/setup.sh and a build of grm and grm-spm):
#   scripts/recipe.sh                      # everything into runs/cpu/
#   GRM_BIN=build-recipe/tools/grm/grm GRM_SPM=build-recipe/tools/grm-spm/grm-spm scripts/recipe.sh
#   OUT=runs/smoke SMOKE=1 scripts/recipe.sh   # a few steps and items, to check the plumbing
# Resume: run the same command again. A stage whose output (or DONE marker) exists is skipped;
# a training stage killed midway continues from its last checkpoint (bit-identical data order);
# grm eval continues from its saved per-sample results. Delete a stage's directory to redo it.
# Fixed seed: SEED (default 20261126) drives world data, weights, data order and eval sampling.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# ---- parameters (the defaults are the recipe; override only to experiment) ----
OUT="${OUT:-runs/cpu}"
SEED="${SEED:-20261126}"
# One thread: a second thread adds only 1.09x at this model size, so long jobs run single-threaded.
THREADS="${THREADS:-1}"
SMOKE="${SMOKE:-0}"
GRM="${GRM_BIN:-build/tools/grm/grm}"
SPM="${GRM_SPM:-build/tools/grm-spm/grm-spm}"

RFT_INPUTS="${RFT_INPUTS:-6000}"    # training inputs for rejective fine-tuning (N_RFT = 3 + 1 hinted each)
CORPUS="${CORPUS:-40000}"          # curriculum records (skills as plain tasks + plain answers)
DEV="${DEV:-900}"                  # dev split items (to choose between recipe variants; never test)
TEST="${TEST:-180}"                # test split items: 20 per domain, levels 1-3 in rotation
VOCAB="${VOCAB:-2000}"
# Model: ~2 M parameters (rotary positions, GQA, tied embeddings), context 1024 (the longest
# prompt + trajectory is about 900 tokens). Sized for a shared 2-core machine: see research/models-notebook.md.
N_CTX=1024 N_EMBD="${N_EMBD:-192}" N_LAYER="${N_LAYER:-4}" N_HEAD=6 N_HEAD_KV=2 N_FF="${N_FF:-512}"
EVAL_K="1,2,4,8,16,32"
EVAL_T=0.5
PROBE_N=20                         # held-out prompts per skill for the greedy skill probe
MAX_GGUF_MB=25

if [[ "$SMOKE" == 1 ]]; then
    RFT_INPUTS=60 CORPUS=300 DEV=20 TEST=9 VOCAB=1000 EVAL_K="1,2,4" PROBE_N=2
fi

D="$OUT"
mkdir -p "$D"/data "$D"/tok "$D"/eval
LOG="$D/recipe.log"
T0=$(date +%s)
source "$ROOT/scripts/recipe_lib.sh"

require_tools

# ---- a. data ----
stage "a: data"
if [[ ! -s "$D/data/rft.jsonl" ]]; then
    run "$GRM" world rft --count "$RFT_INPUTS" --seed "$SEED" --out "$D/data/rft.jsonl" --report "$D/data/rft.md"
fi
if [[ ! -s "$D/data/corpus.jsonl" ]]; then
    run "$GRM" world corpus --count "$CORPUS" --seed "$SEED" --out "$D/data/corpus.jsonl"
fi
if [[ ! -s "$D/data/corpus-drill.jsonl" ]]; then
    run "$GRM" world corpus --count "$COPY_CORPUS" --seed "$((SEED + 1))" --out "$D/data/corpus-drill.jsonl"
fi
if [[ ! -s "$D/data/dev.jsonl" ]]; then
    run "$GRM" world gen --split dev --count "$DEV" --seed "$SEED" --out "$D/data/dev.jsonl"
fi
if [[ ! -s "$D/data/test.jsonl" ]]; then
    run "$GRM" world gen --split test --count "$TEST" --seed "$SEED" --out "$D/data/test.jsonl"
fi
# rft.jsonl holds only kept trajectories (kind rft), hinted ones that were right (rft_hinted) and
# plain answers (answer); rejected trajectories and dropped inputs are counted in rft.md.
write_once "$D/data/stage1.jsonl" chatml "$D/data/corpus.jsonl"
write_once "$D/data/stage2.jsonl" chatml "$D/data/rft.jsonl"
write_once "$D/data/stage3.jsonl" skills "$D/data/corpus-drill.jsonl"
write_once "$D/data/stage4.jsonl" mix "$D/data/stage2.jsonl" "$D/data/corpus.jsonl"
{
    echo "records by kind in rft.jsonl:"; jq -r '.kind' "$D/data/rft.jsonl" | sort | uniq -c
    echo "records by skill in corpus.jsonl:"; jq -r '.skill' "$D/data/corpus.jsonl" | sort | uniq -c
    echo "records in stage3.jsonl (copy drill): $(wc -l < "$D/data/stage3.jsonl")"
} | tee "$D/data/counts.txt" >> "$LOG"

# ---- b. tokenizer ----
stage "b: tokenizer"
if [[ ! -s "$D/tok/vocab.gguf" ]]; then
    # Training text: every prompt and completion of both training sets (train lexicon only),
    # one line per line of text; newlines themselves become byte-fallback pieces.
    log "\$ jq -r '.prompt, .completion' corpus.jsonl rft.jsonl > tok/train.txt"
    jq -r '.prompt, .completion' "$D/data/corpus.jsonl" "$D/data/rft.jsonl" | grep -v '^[[:space:]]*$' > "$D/tok/train.txt"
    run "$SPM" train --input "$D/tok/train.txt" --vocab-size "$VOCAB" --out "$D/tok/vocab.gguf" \
        --model-prefix "$D/tok/spm" --threads "$THREADS" --max-lines 400000
fi
N_VOCAB=$(wc -l < "$D/tok/spm.vocab")
log "vocabulary: $N_VOCAB pieces"

write_model_json "$N_VOCAB"

# ---- c. curriculum ----
stage "c: curriculum (skills corpus + plain answers)"
train_stage "$D/stage1" "$D/data/stage1.jsonl" "$S1_STEPS" "$S1_BATCH" "$S1_SEQ" "$S1_LR" "$S1_WARMUP"

# ---- d-f. RFT, copy drill, RFT with skills ----
stage "d-f: rejective fine-tuning, copy drill, rejective fine-tuning with skills mixed in"
grm_stages "$D" "$D/data/stage2.jsonl" "$D/data/stage4.jsonl"

# ---- g. export ----
stage "g: export"
GGUF="$D/grm-cpu.gguf"
export_checked "$D/stage4" "$GGUF" grm-cpu "$EVAL_MAX_TOKENS"

# ---- h. eval ----
stage "h: eval on the test split"
if ! done_or "$D/eval/test"; then
    run "$GRM" eval --data "$D/data/test.jsonl" -m "$GGUF" -o "$D/eval/test" -k "$EVAL_K" --greedy \
        -t "$EVAL_T" --seed "$SEED" --threads "$THREADS" --max-tokens "$EVAL_MAX_TOKENS"
    touch "$D/eval/test/DONE"
fi
write_once "$D/eval/teacher.md" "$GRM" world teacher --split test --count "$TEST" --seed "$SEED"

# ---- summary ----
stage "summary"
{
    echo "out: $D   seed: $SEED   wall time of this invocation: $(( $(date +%s) - T0 )) s"
    echo "model: $(tr -d '\n' < "$D/model.json")   gguf: $GGUF (${SIZE_MB} MiB)"
    for s in stage1 stage2 stage3 stage4; do
        echo "$s: $(tail -n 1 "$D/$s/log.jsonl")"
    done
    echo; cat "$D/data/rft.md"
    echo; echo "skill probe (greedy exact match, research/scripts/probe_skills.sh):"; cat "$D/eval/skills.txt" 2>/dev/null || true
    echo; echo "link probe (teacher forced, research/scripts/probe_links.sh):"; cat "$D/eval/links.md" 2>/dev/null || true
    echo; cat "$D/eval/test/report.md"
    echo; cat "$D/eval/teacher.md"
} | tee "$D/summary.txt"
log "recipe finished: $D/summary.txt, $D/eval/test/report.md"
