// Decode-sized matrix products on grm's ggml device (exact_attention.h registers it): y = W x for a
// weight matrix W (F32, F16 or BF16 [k, m], contiguous) and a decode step's few F32 columns
// x [k, n <= kDecodeMatmulMaxCols]. A decode step reads every weight once for a handful of tokens,
// so its time is the weights' stream from memory; ggml's tiled kernel reads W in 4-row tiles and
// converts x to W's type, this one streams W two rows at a time with a prefetch a few rows ahead,
// x staying F32 in L1 (research/scripts/decode_matmul_probe.cpp: 0.84-0.88x ggml's time on the
// weights of a 20 M F32 model).
#pragma once

struct ggml_tensor;

namespace grm {

constexpr int kDecodeMatmulMaxCols = 16;
// Smaller matrices stay in the caches between steps, where ggml's tiles are as fast, and each node
// moved to the device costs a graph split (with no floor a 2 M F16 model's judgment took 20%
// longer; docs/benchmarks.md).
constexpr long kDecodeMatmulMinBytes = 1l << 20;

// Whether the device claims a GGML_OP_MUL_MAT node (the shapes above; 2-D, contiguous W and dst;
// W of at least kDecodeMatmulMinBytes).
bool decode_matmul_supports(const ggml_tensor * op);

// dst [m, n] = src[0]^T src[1], rows split over n_threads.
void decode_matmul(ggml_tensor * dst, int n_threads);

// Matmul nodes the device has computed in this process (tests, benchmarks).
long decode_matmul_nodes();

}  // namespace grm
