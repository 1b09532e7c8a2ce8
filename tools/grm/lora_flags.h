// The LoRA flags of the training subcommands (train, rl train, meta train, bt train), defined once.
#pragma once

#include "core/error.h"
#include "model/checkpoint.h"
#include "model/config.h"

#include <CLI/CLI.hpp>

namespace grm::cli {

// --lora-rank, --lora-alpha, --lora-targets
void add_lora_flags(CLI::App & cmd, model::LoraParams & p);

// The run's LoRA: the flags' (validated) for a fresh run; on --resume the checkpoint's, and an error
// when a LoRA flag was given too (the adapters are the run's own, as its schedule).
Result<model::LoraParams> run_lora(const CLI::App & cmd, const model::LoraParams & given, bool resume,
                                   const model::CheckpointMeta & resumed);

}  // namespace grm::cli
