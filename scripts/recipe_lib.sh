# recipe_lib.sh: what scripts/recipe.sh and scripts/recipe_stage2.sh share: the GRM's training
# schedule (so the ablation GRMs train exactly like the default one), logging, the ChatML wrap and
# the resumable training stage. Sourced, not run; the caller sets OUT, SEED, THREADS, SMOKE, GRM
# and LOG first.

# ---- the GRM's training schedule (the defaults are the recipe; override only to experiment) ----
# c. curriculum: skills as plain tasks + plain answers, from scratch.
S1_STEPS="${S1_STEPS:-1200}" S1_BATCH="${S1_BATCH:-4}" S1_SEQ=512 S1_LR="${S1_LR:-2e-3}" S1_WARMUP=20
# d. rejective fine-tuning from c.
S2_STEPS="${S2_STEPS:-2000}" S2_BATCH="${S2_BATCH:-2}" S2_SEQ=1024 S2_LR="${S2_LR:-1e-3}" S2_WARMUP=20
# e. copy drill from d: copy/restate/match only, from a second corpus (seed SEED + 1). Short rows
#    give many optimizer steps per token, which is what copying (an induction-head skill) needs.
COPY_CORPUS="${COPY_CORPUS:-120000}"
S3_STEPS="${S3_STEPS:-2000}" S3_BATCH=8 S3_SEQ=256 S3_LR="${S3_LR:-3e-3}" S3_WARMUP=30
# f. RFT again from e, with the curriculum's copy/restate/match records mixed in (about 12% of the
#    tokens) so the drilled skill is kept while judging is relearned.
S4_STEPS="${S4_STEPS:-2000}" S4_BATCH=2 S4_SEQ=1024 S4_LR="${S4_LR:-1e-3}" S4_WARMUP=20
SAVE_EVERY="${SAVE_EVERY:-25}"
# Generation budget of the evals: the default's numbers were measured at 512 (grm's default was 512
# then), so re-runs pin it; quoted trajectories of a marker-vocab model need more (recipe_copyhead.sh).
EVAL_MAX_TOKENS="${EVAL_MAX_TOKENS:-512}"
if [[ "${SMOKE:-0}" == 1 ]]; then
    S1_STEPS=4 S2_STEPS=4 S3_STEPS=4 S4_STEPS=4 COPY_CORPUS=300 SAVE_EVERY=2
    S1_WARMUP=1 S2_WARMUP=1 S3_WARMUP=1 S4_WARMUP=1
fi

log() { echo "[$(basename "$0" .sh) $(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }
# run CMD...: logs the command, then runs it with its stderr/stdout also appended to the log.
run() {
    log "\$ $*"
    "$@" 2> >(tee -a "$LOG" >&2) | tee -a "$LOG"
    return "${PIPESTATUS[0]}"
}
stage() { log "==== stage $1 ===="; }
# require_tools: the binaries a recipe calls ($GRM, and $SPM where the recipe sets it) and jq.
require_tools() {
    local me; me=$(basename "$0" .sh)
    [[ -x "$GRM" ]] || { echo "$me: no grm binary at $GRM (set GRM_BIN)" >&2; exit 2; }
    [[ -z "${SPM:-}" || -x "$SPM" ]] || { echo "$me: no grm-spm binary at $SPM (set GRM_SPM)" >&2; exit 2; }
    command -v jq >/dev/null || { echo "$me: needs jq" >&2; exit 2; }
    log "$me: out=$OUT seed=$SEED threads=$THREADS smoke=${SMOKE:-0} commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)"
}
# write_model_json N_VOCAB: $OUT/model.json, the model's shape (N_CTX, N_EMBD, N_LAYER, N_HEAD,
# N_HEAD_KV, N_FF from the recipe), written whole or not at all.
write_model_json() {
    cat > "$OUT/model.json.tmp" <<EOF
{"n_vocab": $1, "n_ctx": $N_CTX, "n_embd": $N_EMBD, "n_layer": $N_LAYER, "n_head": $N_HEAD,
 "n_head_kv": $N_HEAD_KV, "n_ff": $N_FF, "rms_eps": 1e-5, "rope_theta": 10000.0, "tied_embeddings": true}
EOF
    mv "$OUT/model.json.tmp" "$OUT/model.json"
}
done_or() { [[ -f "$1/DONE" ]] && { log "$1: done, skipped"; return 0; }; return 1; }

# chatml FILE: {prompt, completion} JSONL in the exact form of inference: the prompt is the ChatML
# wrap llama.cpp's chat template produces, the completion ends with <|im_end|> (EOG).
chatml() {
    jq -c '{prompt: ("<|im_start|>user\n" + .prompt + "<|im_end|>\n<|im_start|>assistant\n"),
            completion: (.completion + "<|im_end|>")}' "$1"
}
# skills FILE: the copy/restate/match records of a curriculum corpus, ChatML-wrapped.
skills() { jq -c 'select(.skill == "copy" or .skill == "restate" or .skill == "match")' "$1" | chatml /dev/stdin; }
# mix RFT_DATA CORPUS: an RFT stage's ChatML data with the corpus's skills appended (stage f's data).
mix() { cat "$1"; skills "$2"; }
# write_once OUT CMD...: CMD's stdout into OUT unless OUT exists (never a partial OUT).
write_once() {
    local out=$1; shift
    [[ -s "$out" ]] && return 0
    log "\$ $* > $out"
    "$@" > "$out.tmp" && mv "$out.tmp" "$out"
}

# train_stage DIR DATA STEPS BATCH SEQ LR WARMUP [INIT]: resumable grm train into DIR, with the
# tokenizer and model shape of $OUT; a DONE marker makes a finished stage a no-op.
train_stage() {
    local dir=$1 data=$2 steps=$3 batch=$4 seq=$5 lr=$6 warmup=$7 init=${8:-}
    done_or "$dir" && return 0
    local t=$(date +%s)
    if [[ -e "$dir/latest" ]]; then
        run "$GRM" train --resume --out "$dir" --data "$data" --vocab "$OUT/tok/vocab.gguf" \
            --threads "$THREADS" --save-every "$SAVE_EVERY" --no-progress
    else
        local initflag=()
        [[ -n "$init" ]] && initflag=(--init "$init")
        run "$GRM" train --config "$OUT/model.json" --data "$data" --vocab "$OUT/tok/vocab.gguf" --out "$dir" \
            "${initflag[@]}" --steps "$steps" --batch "$batch" --seq "$seq" --lr "$lr" --warmup "$warmup" \
            --min-lr-ratio 0.1 --weight-decay 0.1 --clip 1.0 --seed "$SEED" --threads "$THREADS" \
            --save-every "$SAVE_EVERY" --no-progress
    fi
    log "$dir: finished in $(( $(date +%s) - t )) s this run; last log line: $(tail -n 1 "$dir/log.jsonl")"
    touch "$dir/DONE"
}

# grm_stages DIR RFT_DATA MIX_DATA: stages d-f of the GRM from the curriculum model $OUT/stage1:
# DIR/stage2 (RFT), DIR/stage3 (copy drill on $OUT/data/stage3.jsonl), DIR/stage4 (RFT + skills,
# the finished GRM). The CPU recipe's GRM and every ablation GRM go through exactly these stages.
grm_stages() {
    local dir=$1 rft=$2 mix=$3
    train_stage "$dir/stage2" "$rft" "$S2_STEPS" "$S2_BATCH" "$S2_SEQ" "$S2_LR" "$S2_WARMUP" "$OUT/stage1"
    train_stage "$dir/stage3" "$OUT/data/stage3.jsonl" "$S3_STEPS" "$S3_BATCH" "$S3_SEQ" "$S3_LR" "$S3_WARMUP" "$dir/stage2"
    train_stage "$dir/stage4" "$mix" "$S4_STEPS" "$S4_BATCH" "$S4_SEQ" "$S4_LR" "$S4_WARMUP" "$dir/stage3"
}

# export_gguf CHECKPOINT OUT.gguf NAME: f16 GGUF (vocab: VOCABF, else the recipe's), written once, never partially.
export_gguf() {
    [[ -s "$2" ]] && return 0
    run "$GRM" export --checkpoint "$1" --vocab "${VOCABF:-$OUT/tok/vocab.gguf}" -o "$2.tmp" --type f16 --name "$3" && mv "$2.tmp" "$2"
}
# export_checked CHECKPOINT OUT.gguf NAME MAX_TOKENS: export_gguf, then the checks every recipe runs
# on its model: the size limit (MAX_GGUF_MB; sets SIZE_MB), one grm score of the first test sample
# through the llama.cpp engine that must parse (the format contract), and the greedy skill probe
# (research/scripts/probe_skills.sh, PROBE_N prompts per skill) into $OUT/eval/skills.txt, and the
# teacher-forced link probe (research/scripts/probe_links.sh, 5 x PROBE_N dev inputs) into $OUT/eval/links.md.
export_checked() {
    local gguf=$2
    export_gguf "$1" "$gguf" "$3"
    SIZE_MB=$(( $(stat -c %s "$gguf") / 1048576 ))
    log "exported $gguf: ${SIZE_MB} MiB"
    (( SIZE_MB <= MAX_GGUF_MB )) || { log "model is larger than $MAX_GGUF_MB MiB"; exit 1; }
    head -n 1 "$OUT/data/test.jsonl" > "$OUT/eval/score-check.jsonl"
    run "$GRM" score -m "$gguf" --threads "$THREADS" -f "$OUT/eval/score-check.jsonl" -k 2 -t 0.5 --max-tokens "$4" --json \
        || log "score check: grm score exited non-zero"
    GRM_BIN="$GRM" write_once "$OUT/eval/skills.txt" bash "$ROOT/research/scripts/probe_skills.sh" "$gguf" "$PROBE_N" \
        || log "skill probe failed (it needs llama-completion from scripts/setup.sh)"
    GRM_BIN="$GRM" write_once "$OUT/eval/links.md" bash "$ROOT/research/scripts/probe_links.sh" "$gguf" "$((5 * PROBE_N))" \
        || log "link probe failed (it needs llama-server from scripts/setup.sh)"
}
