// The one flag layer for engines and sampling, shared by every subcommand that generates (score,
// eval, serve, rl data, meta data).
#pragma once

#include "core/engine.h"
#include "engines/make_engine.h"

#include <CLI/CLI.hpp>

namespace grm::cli {

// --model; llama.cpp: --ctx, --threads, --kv-size, --n-seq-max, --no-prefix-cache; upstream servers:
// --api, --upstream-api-key, --served-model, --upstream-timeout, --retries, --upstream-max-n, --concurrency
void add_engine_flags(CLI::App & cmd, EngineOptions & o);
// --temperature, --top-p, --top-k, --max-tokens
void add_sampling_flags(CLI::App & cmd, SamplingParams & s);

}  // namespace grm::cli
