// The one flag layer for engines and sampling, shared by every subcommand that generates (score,
// eval, serve, rl data, meta data).
#pragma once

#include "core/engine.h"
#include "engines/make_engine.h"

#include <CLI/CLI.hpp>

namespace grm::cli {

// --model; llama.cpp: --ctx, --threads, --kv-size, --n-seq-max, --no-prefix-cache; upstream servers:
// --api, --upstream-api-key, --served-model, --upstream-timeout, --retries, --upstream-max-n,
// --concurrency. reproducible: the cross-input prefix cache starts off (a cached prefix's KV differs
// from a recomputed one in the last bits, and a sampled text can follow), and --prefix-cache turns
// it on instead of --no-prefix-cache turning it off.
void add_engine_flags(CLI::App & cmd, EngineOptions & o, bool reproducible = false);
// --temperature, --top-p, --top-k, --max-tokens
void add_sampling_flags(CLI::App & cmd, SamplingParams & s);

}  // namespace grm::cli
