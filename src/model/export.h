// Export of a trained Transformer to a Llama-architecture GGUF (f32 or f16) with its vocab and the
// ChatML template, loadable by llama.cpp and llama-server.
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"
#include "model/transformer.h"

#include <string>

namespace grm::model {

// The model's parameters under their GGUF names (which are the module's own names), in f32 on
// the CPU. Errors: vocab size differs from the config's n_vocab.
Result<GgufLlamaModel> to_gguf_model(TransformerImpl & model, const Vocab & vocab, const std::string & name = "grm");

Status export_gguf(TransformerImpl & model, const Vocab & vocab, const std::string & path, GgufType type,
                   const std::string & name = "grm");

}  // namespace grm::model
