// Engine and sampling flags shared by the subcommands that judge (score, eval, serve).
#pragma once

#include "core/engine.h"
#include "engines/make_engine.h"

#include <CLI/CLI.hpp>

namespace grm::cli {

// --model, --ctx, --threads, --kv-size, --no-prefix-cache, --api, --api-key, --served-model,
// --timeout, --retries, --max-n, --concurrency. reproducible: the cross-input prefix cache starts
// off (a cached prefix's KV differs from a recomputed one in the last bits, and a sampled text can
// follow), and --prefix-cache turns it on instead of --no-prefix-cache turning it off.
void add_engine_flags(CLI::App & cmd, EngineOptions & o, bool reproducible = false);
// --temperature, --top-p, --top-k, --max-tokens
void add_sampling_flags(CLI::App & cmd, SamplingParams & s);

}  // namespace grm::cli
