// RMSNorm and rotary embeddings as single autograd ops on the CPU: one pass over the rows forward
// and one backward, where the composed torch ops make five to ten passes and as many temporaries.
// Other devices and dtypes take the composed ops (the same formulas).
#pragma once

#include <torch/torch.h>

namespace grm::model {

// x [..., d], w [d] -> x / sqrt(mean(x^2) + eps) * w (llama.cpp's rms_norm).
torch::Tensor rms_norm(const torch::Tensor & x, const torch::Tensor & w, double eps);

// Rotary embeddings: pair i is rotated by pos * theta^(-2i/head_dim). Adjacent pairs (x[2i], x[2i+1])
// as llama.cpp's LLAMA_ROPE_TYPE_NORM, or with neox pairs (x[i], x[i + head_dim/2]) as its
// LLAMA_ROPE_TYPE_NEOX (HF's rotate_half). x [B, T, H, head_dim]; cos/sin [B, T, 1, head_dim/2].
torch::Tensor apply_rope(const torch::Tensor & x, const torch::Tensor & cos, const torch::Tensor & sin, bool neox = false);

}  // namespace grm::model
