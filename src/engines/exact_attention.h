// grm's decode attention inside llama.cpp's graph. llama.cpp's unified KV cache makes every query
// of a decode step attend over every occupied cell, masking out the other samples' cells (8 samples
// of a judgment: about 1,580 cells a token where 1,071 are needed; see docs/benchmarks.md). This
// registers a ggml device of type ACCEL (the kind llama.cpp adds to every context, as it does BLAS)
// that claims the GGML_OP_FLASH_ATTN_EXT nodes and computes them over exactly the cells each
// query's mask lets it see: cells seen by the same set of queries (a judgment's prompt, by its k
// samples) once for all of them, the rest query by query. Nodes that ggml's own tiled kernel does
// with fewer dot products (prefill chunks) go to ggml's CPU backend. The device also claims the
// decode-sized matmuls decode_matmul.h describes.
#pragma once

struct ggml_tensor;

namespace grm {

// Registers the device once per process; contexts created afterwards with flash attention on run
// their decode attention on it. Idempotent and thread-safe.
void register_exact_attention();

// dst = softmax(scale * q k^T + mask) v for one flash-attention node (the op's layout: q F32
// [DK, n_q, n_head, 1] view, k/v F16 [DK|DV, n_kv, n_head_kv, 1] views, mask F16 [n_kv, >= n_q],
// dst F32 [DV, n_head, n_q, 1]), visiting only cells whose mask is not -inf, always by grm's
// kernel; whether the device claims a node. Exposed for tests.
bool exact_attention_supports(const ggml_tensor * dst);
void exact_attention(ggml_tensor * dst, int n_threads);

// Flash-attention nodes the device has computed in this process, and the masks it has scanned
// (once per decode step and mask, not per layer) (tests, benchmarks).
long exact_attention_nodes();
long exact_attention_scans();

}  // namespace grm
