// JSON load/save of grm::LlamaConfig, the one description of a model's shape (shared with GGUF export).
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"

#include <nlohmann/json.hpp>
#include <string>

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

// Parameter count of the language model (tied embeddings counted once).
int64_t parameter_count(const LlamaConfig & c);

}  // namespace grm::model
