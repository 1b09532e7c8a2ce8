#!/usr/bin/env bash
# recipe_stage2.sh: SPCT stage 2 and the ablation table of issue 5 (docs/ablation.md), from the
# stage-1 run of scripts/recipe.sh (runs/cpu/: data, tokenizer, curriculum stage1, and the
# finished RFT GRM stage4).
#
# Stages, each resumable (a stage whose DONE marker exists is skipped; training continues from its
# last checkpoint with the same data order; grm eval continues from its saved per-sample results):
#   a. rl        grm rl: GRPO from the RFT checkpoint, rule reward, KL to the frozen RFT model,
#                inputs the RFT model gets right in all FILTER_TRIES samples filtered out
#   b. meta      grm meta train: BCE meta RM on non-hinted teacher trajectories + 3 samples per
#                input from the RL model; exported as meta.gguf + meta.gguf.head.json
#   c. bt        grm bt train: Bradley-Terry scalar RM on world preferences, same backbone init
#   d. ablations RFT without hinted samples (rft.jsonl minus rft_hinted records) and the GRM
#                without principles (grm world rft --no-principles), both trained from stage1
#                through recipe.sh's stages d-f (RFT, copy drill, RFT + skills) on their own data
#   e. eval      every GRM on the test split: greedy, voting@1..32 at T = 0.5 and meta@k (one
#                set of 32 samples per item), k_meta in {1, k/4, k/2} at k = 32; BT accuracy
#   f. table     $OUT/spct/ablation.md generated from the eval outputs
#
# Run from the repository root after scripts/recipe.sh finished:
#   scripts/recipe_stage2.sh
#   OUT=runs/smoke SMOKE=1 scripts/recipe_stage2.sh    # after OUT=runs/smoke SMOKE=1 scripts/recipe.sh
# Or from any GRM GGUF instead of recipe.sh's run, e.g. the GPU-trained judge (docs/ablation.md):
#   RFT_GGUF=models/grm-gpu.gguf OUT=runs/gpu-stage2 scripts/recipe_stage2.sh
# which imports it (grm import --gguf) as the RFT checkpoint and uses its vocab; stage d then trains
# nothing: NOHINT_GGUF / NOPRIN_GGUF (scripts/recipe_gpu.sh VARIANT=nohint|noprin) fill those rows
# when given, else they read "not run".
# Fixed seed: SEED (default 20261126, the same as recipe.sh); RL_INPUT_SEED (SEED + 1) and
# META_SEED (SEED + 2) draw the GRPO and meta RM inputs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

OUT="${OUT:-runs/cpu}"
SEED="${SEED:-20261126}"
THREADS="${THREADS:-2}"
SMOKE="${SMOKE:-0}"
GRM="${GRM_BIN:-build/tools/grm/grm}"
RFT_GGUF="${RFT_GGUF:-}"
TABLE="${TABLE:-$OUT/spct/ablation.md}"  # docs/ablation.md quotes it with the analysis around it
RL_INPUT_SEED="${RL_INPUT_SEED:-$((SEED + 1))}" META_SEED="${META_SEED:-$((SEED + 2))}"

# GRPO: group 4 as in the paper; beta large enough to hold the format (the paper: 0.08 at 27B);
# lr and batch sized for a ~5 M-parameter CPU model (the paper's 4e-7 x 512 rollouts is for 27B).
# Cost measured on the smoke model (same size): one step of 16 rollouts, mean length 105 tokens,
# took 50 s on one thread of a loaded 2-core machine. On the default RFT model (session 4, two
# threads, mean rollout length 175 tokens): 13 s per step and 1.3 s per input for the 4-try filter,
# so stage a is about 40 minutes; the meta RM's 600 x 3 policy samples took 9 minutes (one thread).
RL_STEPS="${RL_STEPS:-150}" RL_INPUTS="${RL_INPUTS:-4}" RL_GROUP=4 RL_LR="${RL_LR:-2e-5}" RL_BETA="${RL_BETA:-0.08}"
RL_MAX_NEW="${RL_MAX_NEW:-512}" RL_T=1.0 FILTER_TRIES=4 FILTER_INPUTS="${FILTER_INPUTS:-300}"
META_COUNT="${META_COUNT:-600}" META_STEPS="${META_STEPS:-800}" META_BATCH=16 META_LR=1e-4
BT_COUNT="${BT_COUNT:-5000}" BT_STEPS="${BT_STEPS:-800}" BT_BATCH=16 BT_LR=1e-4
SAVE_EVERY="${SAVE_EVERY:-10}"
EVAL_K="1,2,4,8,16,32" EVAL_T=0.5
META_FLAGS=()

if [[ "$SMOKE" == 1 ]]; then
    RL_STEPS=2 RL_INPUTS=2 RL_MAX_NEW=48 FILTER_INPUTS=4 META_COUNT=4 META_STEPS=2 BT_COUNT=8 BT_STEPS=2
    SAVE_EVERY=1 EVAL_K="1,2,4"
    META_FLAGS=(--no-balance)  # 48-token trajectories are all cut short (wrong): nothing to balance
fi

D="$OUT"
S2="$D/spct"
mkdir -p "$S2"/data "$S2"/eval
LOG="$S2/recipe_stage2.log"
# The GRM schedule (ablations train like the default), log/run/stage, chatml, train_stage.
source "$ROOT/scripts/recipe_lib.sh"

require_tools
if [[ -n "$RFT_GGUF" ]]; then
    mkdir -p "$D/data"
    RFT="$D/rft" VOCABF="$RFT_GGUF" RFT_MODEL="$RFT_GGUF"
    [[ -e "$RFT/latest" ]] || run "$GRM" import --gguf "$RFT_GGUF" -o "$RFT"
    [[ -s "$D/data/test.jsonl" ]] ||
        run "$GRM" world gen --split test --count "${TEST:-180}" --seed "$SEED" --out "$D/data/test.jsonl"
else
    RFT="$D/stage4" VOCABF="$D/tok/vocab.gguf" RFT_MODEL="$D/grm-cpu.gguf"  # the finished RFT GRM of recipe.sh
    for f in "$D/tok/vocab.gguf" "$RFT/latest" "$D/stage1/latest" "$D/data/stage3.jsonl" "$D/data/rft.jsonl" "$D/data/test.jsonl" "$D/model.json"; do
        [[ -e "$f" ]] || { echo "recipe_stage2: $f missing: run scripts/recipe.sh (same OUT) first" >&2; exit 2; }
    done
fi

# ---- a. GRPO ----
stage "a: rule-based online RL (GRPO)"
if [[ ! -s "$S2/data/rl_inputs.jsonl" ]]; then
    run "$GRM" world gen --split train --count "$FILTER_INPUTS" --seed "$RL_INPUT_SEED" --out "$S2/data/rl_inputs.jsonl"
fi
if ! done_or "$S2/rl"; then
    if [[ -e "$S2/rl/latest" ]]; then
        run "$GRM" rl train --resume --out "$S2/rl" --init "$RFT" --vocab "$VOCABF" --threads "$THREADS" \
            --save-every "$SAVE_EVERY" --no-progress
    else
        run "$GRM" rl train --data "$S2/data/rl_inputs.jsonl" --init "$RFT" --vocab "$VOCABF" --out "$S2/rl" \
            --group "$RL_GROUP" --inputs-per-step "$RL_INPUTS" --steps "$RL_STEPS" --lr "$RL_LR" --beta "$RL_BETA" \
            --temperature "$RL_T" --max-new-tokens "$RL_MAX_NEW" --filter-tries "$FILTER_TRIES" --seed "$SEED" \
            --threads "$THREADS" --save-every "$SAVE_EVERY" --no-progress
    fi
    touch "$S2/rl/DONE"
fi
export_gguf "$S2/rl" "$S2/grm-spct.gguf" grm-spct

# ---- b. meta RM ----
stage "b: meta RM"
if ! done_or "$S2/meta"; then
    if [[ -e "$S2/meta/latest" ]]; then
        run "$GRM" meta train --resume --out "$S2/meta" --init "$RFT" --policy "$S2/rl" --vocab "$VOCABF" \
            --threads "$THREADS" --no-progress
    else
        run "$GRM" meta train --init "$RFT" --policy "$S2/rl" --vocab "$VOCABF" --out "$S2/meta" \
            --count "$META_COUNT" --gen-seed "$META_SEED" --teacher-samples 3 --policy-samples 3 \
            --max-new-tokens "$RL_MAX_NEW" --steps "$META_STEPS" --batch "$META_BATCH" --lr "$META_LR" --seed "$SEED" \
            --threads "$THREADS" --save-every "$SAVE_EVERY" --no-progress "${META_FLAGS[@]}"
    fi
    touch "$S2/meta/DONE"
fi
META="$S2/meta/meta.gguf"

# ---- c. Bradley-Terry baseline ----
stage "c: Bradley-Terry scalar RM"
if ! done_or "$S2/bt"; then
    if [[ -e "$S2/bt/latest" ]]; then
        run "$GRM" bt train --resume --out "$S2/bt" --init "$RFT" --vocab "$VOCABF" --threads "$THREADS" --no-progress
    else
        run "$GRM" bt train --init "$RFT" --vocab "$VOCABF" --out "$S2/bt" --count "$BT_COUNT" --gen-seed "$SEED" \
            --steps "$BT_STEPS" --batch "$BT_BATCH" --lr "$BT_LR" --seed "$SEED" --threads "$THREADS" \
            --save-every "$SAVE_EVERY" --no-progress
    fi
    touch "$S2/bt/DONE"
fi

# ---- d. RFT ablations (from the same curriculum stage1, through the same stages d-f) ----
stage "d: RFT ablations"
if [[ -n "$RFT_GGUF" ]]; then
    NOHINT_MODEL="${NOHINT_GGUF:-}" NOPRIN_MODEL="${NOPRIN_GGUF:-}"
else
    NOHINT_MODEL="$S2/grm-nohint.gguf" NOPRIN_MODEL="$S2/grm-noprin.gguf"
    write_once "$S2/data/rft_nohint.jsonl" jq -c 'select(.kind != "rft_hinted")' "$D/data/rft.jsonl"
    write_once "$S2/data/nohint.jsonl" chatml "$S2/data/rft_nohint.jsonl"
    write_once "$S2/data/nohint-mix.jsonl" mix "$S2/data/nohint.jsonl" "$D/data/corpus.jsonl"
    if [[ ! -s "$S2/data/rft_noprin.jsonl" ]]; then
        # The same inputs as stage 1's RFT: its report states their count (dropped inputs have no records).
        RFT_INPUTS=$(grep -o 'inputs: [0-9]*' "$D/data/rft.md" | head -n 1 | grep -o '[0-9]*')
        run "$GRM" world rft --count "$RFT_INPUTS" --seed "$SEED" --no-principles --out "$S2/data/rft_noprin.jsonl" \
            --report "$S2/data/rft_noprin.md"
    fi
    write_once "$S2/data/noprin.jsonl" chatml "$S2/data/rft_noprin.jsonl"
    write_once "$S2/data/noprin-mix.jsonl" mix "$S2/data/noprin.jsonl" "$D/data/corpus.jsonl"
    for name in nohint noprin; do
        grm_stages "$S2/$name" "$S2/data/$name.jsonl" "$S2/data/$name-mix.jsonl"
        export_gguf "$S2/$name/stage4" "$S2/grm-$name.gguf" "grm-$name"
    done
fi

# ---- e. eval ----
stage "e: eval on the test split"
evaluate() {  # evaluate NAME GGUF [extra grm eval flags...]
    local name=$1 gguf=$2; shift 2
    local dir="$S2/eval/$name"
    done_or "$dir" && return 0
    run "$GRM" eval --data "$D/data/test.jsonl" -m "$gguf" -o "$dir" -k "$EVAL_K" --greedy -t "$EVAL_T" \
        --seed "$SEED" --threads "$THREADS" --max-tokens "$EVAL_MAX_TOKENS" --meta "$META" "$@"
    touch "$dir/DONE"
}
evaluate rft "$RFT_MODEL"
[[ -z "$NOHINT_MODEL" ]] || evaluate nohint "$NOHINT_MODEL"
evaluate spct "$S2/grm-spct.gguf"
[[ -z "$NOPRIN_MODEL" ]] || evaluate noprin "$NOPRIN_MODEL" --no-principles
write_once "$S2/eval/bt.md" "$GRM" bt eval --model "$S2/bt/bt.gguf" --data "$D/data/test.jsonl" --threads "$THREADS" \
    --seed "$SEED" --out "$S2/eval/bt.jsonl"

# ---- f. table ----
stage "f: ablation table"
KMAX="${EVAL_K##*,}"
# summary NAME [flags]: the eval summary lines (greedy, voting@k, meta@k) re-read from saved results.
summary() {
    local name=$1; shift
    local flags=(--no-principles)
    [[ "$name" == noprin ]] || flags=()
    "$GRM" eval --report-only --data "$D/data/test.jsonl" -m x -o "$S2/eval/$name" -k "$EVAL_K" --seed "$SEED" \
        --meta "$META" "${flags[@]}" "$@" 2>/dev/null
}
# cell SUMMARY LABEL: "accuracy (ties random)" of that line, or an em dash.
cell() { awk -v l="$2" '$1 == l { for (i = 1; i <= NF; i++) if ($i == "accuracy") { sub("%", "", $(i+1)); print $(i+1); exit } }' <<< "$1" | grep . || echo "—"; }
row() {
    local label=$1 name=$2 s
    [[ -d "$S2/eval/$name" ]] || { echo "| $label | not run | | | | | |"; return; }
    s=$(summary "$name")
    echo "| $label | $(cell "$s" greedy) | $(cell "$s" voting@1) | $(cell "$s" voting@8) | $(cell "$s" voting@$KMAX) | $(cell "$s" meta@8) | $(cell "$s" meta@$KMAX) |"
}
BT_ACC=$(awk -F'|' '$2 ~ /overall/ { gsub(/ /, "", $4); print $4 }' "$S2/eval/bt.md")
{
    echo "# Ablation: SPCT on the judge world (test split)"
    echo
    echo "Generated by \`scripts/recipe_stage2.sh\` (OUT=$D, seed $SEED, commit $(git rev-parse --short HEAD 2>/dev/null || echo none));"
    echo "accuracy in %, ties broken at random (the paper's protocol); voting at T = $EVAL_T from one set of $KMAX samples"
    echo "per item; meta@k keeps the top k/2 of those k by the meta RM ($META). The BT RM has no sampling: its"
    echo "single score is in the greedy column."
    echo
    echo "| model | greedy | voting@1 | @8 | @$KMAX | meta@8 | meta@$KMAX |"
    echo "|---|---|---|---|---|---|---|"
    echo "| BT scalar RM | $BT_ACC | — | — | — | — | — |"
    row "GRM, RFT only" rft
    row "GRM, RFT without hinted samples" nohint
    row "GRM, RFT + RL (SPCT)" spct
    row "GRM without principles (analysis and scores only)" noprin
    echo
    echo "## k_meta at k = $KMAX (GRM, RFT + RL)"
    echo
    echo "| k_meta | meta@$KMAX |"
    echo "|---|---|"
    for km in 1 $((KMAX / 4)) $((KMAX / 2)); do
        echo "| $km | $(cell "$(summary spct --k-meta "$km")" "meta@$KMAX") |"
    done
    echo
    echo "## Adaptive voting (GRM, RFT + RL), replayed over the same $KMAX samples per item"
    echo
    echo "Exact bound only, then bound or confidence 0.8 (after 4 valid samples):"
    echo
    echo '```'
    "$GRM" rl adaptive --results "$S2/eval/spct/results.jsonl" --max-k "$KMAX" --seed "$SEED"
    echo
    "$GRM" rl adaptive --results "$S2/eval/spct/results.jsonl" --max-k "$KMAX" --confidence 0.8 --min-k 4 --seed "$SEED"
    echo '```'
    echo
    echo "Accuracy against k, plain and meta-guided: \`$S2/eval/spct/accuracy_vs_k.svg\`. RL curves:"
    echo "\`$S2/rl/plot.svg\` (mean reward, accuracy, KL, length, unscorable rate per step)."
    echo
    echo "RL last step: \`$(tail -n 1 "$S2/rl/log.jsonl")\`"
} > "$TABLE.tmp"
mv "$TABLE.tmp" "$TABLE"
log "stage2 finished: $TABLE"
