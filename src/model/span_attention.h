// Causal attention within the documents (spans) of packed training rows, on the CPU: one autograd
// op whose forward and backward make single-threaded BLAS calls per block of 64 query rows, with the
// (span, kv head) pairs spread over torch's threads. Against the generic path (matmul + bias +
// softmax per span) it skips the keys above the diagonal, copies nothing for grouped-query heads,
// and never runs a small batched GEMM under two nested thread pools (libtorch 1.13's bmm with the
// OpenMP OpenBLAS spends most of its time waiting in that case).
#pragma once

#include <torch/torch.h>

namespace grm::model {

// Whether span_attention can run on these tensors: CPU, f32, contiguous, and built with CBLAS.
bool span_attention_supported(const torch::Tensor & q);

// q [B, T, H, hd], k/v [B, T, Hkv, hd] (H a multiple of Hkv; query head h uses kv head h / (H/Hkv)),
// spans [n, 3] int64 rows (row, start, len) that tile every row -> [B, T, H, hd]:
// out[b, t, h] = sum_s softmax_s(scale * q[b,t,h] . k[b,s,kv]) v[b,s,kv] over s in t's span, s <= t.
// Differentiable in q, k and v.
torch::Tensor span_attention(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v,
                             const torch::Tensor & spans, double scale);

}  // namespace grm::model
