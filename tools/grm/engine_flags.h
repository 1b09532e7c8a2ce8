// The one flag layer for engines, sampling and judging, shared by every subcommand that generates
// (score, eval, serve).
#pragma once

#include "core/engine.h"
#include "core/judge.h"
#include "engines/make_engine.h"
#include "scaling/llama_scalar_rm.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace grm::cli {

// --model; llama.cpp: --ctx, --threads, --kv-size, --n-seq-max, --no-prefix-cache, --lora; upstream servers:
// --api, --upstream-api-key, --served-model, --upstream-timeout, --retries, --upstream-max-n,
// --concurrency. reproducible: the cross-input prefix cache starts off (a cached prefix's KV differs
// from a recomputed one in the last bits, and a sampled text can follow), and --prefix-cache turns
// it on instead of --no-prefix-cache turning it off.
void add_engine_flags(CLI::App & cmd, EngineOptions & o, bool reproducible = false);
// --lora PATH[:SCALE]: the scale when the text after the last ':' is a number, else 1 and all of it the path.
LoraAdapterSpec parse_lora_flag(const std::string & value);
// --temperature, --top-p, --top-k, --max-tokens
void add_sampling_flags(CLI::App & cmd, SamplingParams & s);

// How judgments are prompted, parsed and voted: what sets JudgeParams' prompt, chat, shuffle and
// clip_scores, binary_single, and the meta RM.
struct JudgeFlags {
    std::string template_file;
    bool        no_principles = false;
    bool        raw           = false;
    bool        no_shuffle    = false;
    std::string meta;  // meta RM GGUF (+ .head.json), or "default"
};
// --template, --no-principles, --raw, --no-shuffle, --clip-scores, --binary-single, and with `meta`
// --meta, --k-meta
void add_judge_flags(CLI::App & cmd, JudgeFlags & f, JudgeParams & p, bool meta = true);
// p.prompt from the template file (or the default, with or without principles), p.chat, p.shuffle.
Status apply_judge_flags(const JudgeFlags & f, JudgeParams & p);
// The meta scorer --meta names; nullptr without --meta.
Result<std::unique_ptr<scaling::LlamaMetaScorer>> load_meta_flag(const JudgeFlags & f, int threads);

}  // namespace grm::cli
