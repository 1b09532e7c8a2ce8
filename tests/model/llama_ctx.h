// llama.cpp as the parity tests run it: one context setting and the last position's logits.
#pragma once

#include "llama.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace grm::model::test {

// F32 keys and values, no flash attention, the whole prompt in one batch: the closest llama.cpp
// gets to the libtorch forward.
inline llama_context_params parity_context_params(int n_ctx) {
    auto cp            = llama_context_default_params();
    cp.n_ctx           = uint32_t(n_ctx);
    cp.n_batch         = uint32_t(n_ctx);
    cp.n_ubatch        = uint32_t(n_ctx);
    cp.n_threads       = 2;
    cp.n_threads_batch = 2;
    cp.type_k          = GGML_TYPE_F32;
    cp.type_v          = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    return cp;
}

// Decodes the prompt from an empty cache; returns the last position's logits [n_vocab].
inline std::vector<float> last_logits(llama_context * ctx, std::vector<int32_t> prompt) {
    llama_memory_clear(llama_get_memory(ctx), true);
    EXPECT_EQ(llama_decode(ctx, llama_batch_get_one(prompt.data(), int32_t(prompt.size()))), 0);
    const int     n = llama_vocab_n_tokens(llama_model_get_vocab(llama_get_model(ctx)));
    const float * l = llama_get_logits_ith(ctx, -1);
    return std::vector<float>(l, l + n);
}

}  // namespace grm::model::test
