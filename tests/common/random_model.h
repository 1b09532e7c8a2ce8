// Tiny random Llama, Qwen2 and Gemma-2 GGUF models for tests and benchmarks (not part of the product libraries).
#pragma once

#include "gguf/gguf_llama.h"

#include <cstdint>

namespace grm {

// Vocab with <unk>, <s>, </s>, the ChatML markers, the 128 ASCII byte-fallback pieces and the
// printable ASCII characters: enough to tokenize ASCII text, for fixtures without a trained tokenizer.
Vocab byte_level_vocab();

// A model with the given config and deterministic random weights (seeded), vocab byte_level_vocab():
// tiny real GGUF files for engine and server tests. config.arch and qkv_bias choose llama or qwen2
// and the q/k/v biases; matrices and biases are normal(0, weight_std), norms ones.
// n_vocab > 0: byte_level_vocab() padded to n_vocab pieces ("<extra_N>", normal), e.g. past 65,536.
GgufLlamaModel random_llama_model(LlamaConfig config, uint64_t seed, float weight_std = 0.02f, int n_vocab = 0);

// The same for llama.cpp's Gemma-2 architecture (m.gemma2 set): its tensor names, q/k/v of
// n_head * g.head_dim rows, post-attention and post-FFN norms; tied embeddings. weight_std: the
// matrices' normal deviation (0.02 as above); norms are ones.
GgufLlamaModel random_gemma2_model(LlamaConfig config, Gemma2Params g, uint64_t seed, float weight_std = 0.02f);

}  // namespace grm
