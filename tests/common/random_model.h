// Tiny random Llama GGUF models for tests and benchmarks (not part of the product libraries).
#pragma once

#include "gguf/gguf_llama.h"

#include <cstdint>

namespace grm {

// Vocab with <unk>, <s>, </s>, the ChatML markers, the 128 ASCII byte-fallback pieces and the
// printable ASCII characters: enough to tokenize ASCII text, for fixtures without a trained tokenizer.
Vocab byte_level_vocab();

// A model with the given config and deterministic random weights (seeded), vocab byte_level_vocab():
// tiny real GGUF files for engine and server tests.
GgufLlamaModel random_llama_model(LlamaConfig config, uint64_t seed);

}  // namespace grm
