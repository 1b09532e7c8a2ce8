// Export of a trained Transformer to a GGUF of its config's architecture (llama or qwen2; f32 or
// f16) with its vocab and the ChatML template, loadable by llama.cpp and llama-server; and the way
// back (`grm import --gguf`).
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"
#include "model/transformer.h"

#include <string>

namespace grm::model {

// The model's parameters under their GGUF names (which are the module's own names), in f32 on
// the CPU; a LoRA model's adapters merged into their weights (model/lora.h for the adapter file). Errors: vocab size differs from the config's n_vocab.
// merge_lora false: a LoRA model's frozen base weights instead (the model an adapter file applies to).
Result<GgufLlamaModel> to_gguf_model(TransformerImpl & model, const Vocab & vocab, const std::string & name = "grm",
                                     bool merge_lora = true);

Status export_gguf(TransformerImpl & model, const Vocab & vocab, const std::string & path, GgufType type,
                   const std::string & name = "grm", bool merge_lora = true);

// Copies the tensors of a GGUF model (read_gguf_llama) into `model`, a Transformer built from
// m.config: every parameter must be there with its shape, and nothing else (rope_freqs.weight is
// config, not a tensor: read_gguf_llama puts it in m.config.rope_freq_factors).
Status load_gguf_weights(const GgufLlamaModel & m, torch::nn::Module & model);

}  // namespace grm::model
