// JSON load/save of grm::LlamaConfig, the one description of a model's shape (shared with GGUF export),
// and of LoraParams, the adapters a LoRA run adds to it.
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace grm::model {

nlohmann::json config_to_json(const LlamaConfig & c);

// Missing keys keep LlamaConfig's defaults (arch "llama"; qkv_bias: true for qwen2, else false);
// the result is validated (validate_config).
Result<LlamaConfig> config_from_json(const nlohmann::json & j);

// Shape constraints the transformer relies on: heads divide the width, kv heads divide the heads,
// an even head size (rotary pairs), positive sizes, q/k/v biases for qwen2 (llama.cpp requires them),
// rope_freq_factors empty or head_dim/2 positive values on a llama model.
Status validate_config(const LlamaConfig & c);

Result<LlamaConfig> load_config(const std::string & path);
Status              save_config(const std::string & path, const LlamaConfig & c);

// The projections a LoRA adapter may target, by their GGUF names (every block's attn_q ... ffn_down).
const std::vector<std::string> & lora_projection_names();

// LoRA: rank-r adapters on a block's projections, y = W x + (alpha / rank) B (A x) with A [rank, in]
// and B [out, rank]; the base weights stay frozen. Stored in a checkpoint's meta.json ("lora"), so
// --resume, --init and export rebuild the same model; llama.cpp applies the same scale to an adapter
// GGUF (adapter.lora.alpha / rank x the --lora scale).
struct LoraParams {
    int                      rank  = 0;  // 0: off
    double                   alpha = 16.0;
    std::vector<std::string> targets = lora_projection_names();

    bool   on() const { return rank > 0; }
    double scale() const { return alpha / double(rank); }
};

nlohmann::json lora_to_json(const LoraParams & p);
// rank 0 (or no object) is LoRA off; otherwise validated (validate_lora).
Result<LoraParams> lora_from_json(const nlohmann::json & j);
// rank >= 0, alpha > 0 when on, targets known and not repeated, at least one.
Status validate_lora(const LoraParams & p);

// Parameter count of the language model (tied embeddings counted once).
int64_t parameter_count(const LlamaConfig & c);

}  // namespace grm::model
