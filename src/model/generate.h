// Batched generation with a KV cache (training-time rollouts) and per-token log-probabilities of
// given continuations (GRPO, the meta RM).
#pragma once

#include "core/engine.h"
#include "core/error.h"
#include "model/transformer.h"

#include <cstdint>
#include <vector>

namespace grm::model {


struct Generation {
    std::vector<int32_t> tokens;           // new tokens, the stop token included when one was hit
    bool                 stopped = false;  // ended on a stop token (else ran out of max_tokens)
};

// Generates for every prompt at once: prompts are left-padded to a common end, each row keeps its
// own positions (0 at its first real token) and never attends to padding. Errors: an empty
// prompt, or prompt + max_tokens beyond the model's n_ctx.
// Sampling is grm::SamplingParams (core/engine.h), the one struct every engine takes: temperature
// (<= 0: greedy), top_p, max_tokens new tokens, seed (one CPU generator per call: same seed, same
// samples). top_k and stop strings are the engines' only (an error here); a row ends after any of
// `stop_ids` instead.
Result<std::vector<Generation>> generate(TransformerImpl & model, const std::vector<std::vector<int32_t>> & prompts,
                                         const grm::SamplingParams & params, const std::vector<int32_t> & stop_ids = {});

// Samples one token per row from logits [B, V] (any device; sampling runs on the CPU so results
// do not depend on the device). Returns [B] int64 on the CPU.
torch::Tensor sample_tokens(const torch::Tensor & logits, float temperature, float top_p, at::Generator & gen);

struct ContinuationLogprobs {
    torch::Tensor logprobs;  // [B, C] log p(c_j | prompt, c_<j); 0 where mask is 0; carries grad
    torch::Tensor mask;      // [B, C] float, 1 for real continuation tokens
};

// Scores continuations[b] after prompts[b] in one right-padded forward pass. Prompts must be
// non-empty (the first continuation token is predicted from the prompt's last position).
Result<ContinuationLogprobs> sequence_logprobs(TransformerImpl & model, const std::vector<std::vector<int32_t>> & prompts,
                                               const std::vector<std::vector<int32_t>> & continuations);

}  // namespace grm::model
