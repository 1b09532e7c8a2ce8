#include "engines/decode_matmul.h"

#include "engines/simd.h"

#include <ggml.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace grm {
namespace {

using namespace simd;

constexpr int kRowsPerTask = 64;  // rows of W per OpenMP task
constexpr int kAhead       = 4;   // rows prefetched ahead of the pair being read

std::atomic<long> g_nodes{ 0 };

// y[j][r] = W[r] . x[j] for rows [r0, r1) and NC <= 8 columns, W two rows at a time: NC x 2
// accumulators of kW lanes (16 registers at NC = 8), each weight loaded once for all columns.
template <int NC, class T>
void rows(const T * W, int64_t k, int64_t r0, int64_t r1, const float * const * x, float * const * y) {
    const int64_t kv = k / kW * kW;  // whole vectors; the rest of a row is summed one by one
    for (int64_t r = r0; r < r1; r += 2) {
        const bool two = r + 1 < r1;
        const T *  w0  = W + r * k;
        const T *  w1  = two ? w0 + k : w0;
        vf         a[16] = {};  // a[j]: row r, column j; a[8 + j]: row r + 1
        for (int64_t c = 0; c < kv; c += kW) {
            __builtin_prefetch(w0 + kAhead * k + c);
            __builtin_prefetch(w1 + kAhead * k + c);
            const vf v0 = vload(w0 + c), v1 = vload(w1 + c);
            for (int j = 0; j < NC; j++) {
                const vf xv = vload(x[j] + c);
                a[j] += v0 * xv;
                a[8 + j] += v1 * xv;
            }
        }
        float sums[16];
        hsum16(a, sums);
        for (int j = 0; j < NC; j++) {
            float s0 = sums[j], s1 = sums[8 + j];
            for (int64_t c = kv; c < k; c++) {
                s0 += to_float(w0[c]) * x[j][c];
                s1 += to_float(w1[c]) * x[j][c];
            }
            y[j][r] = s0;
            if (two) y[j][r + 1] = s1;
        }
    }
}

template <class T>
void rows_any(int nc, const T * W, int64_t k, int64_t r0, int64_t r1, const float * const * x, float * const * y) {
    switch (nc) {
        case 1: return rows<1>(W, k, r0, r1, x, y);
        case 2: return rows<2>(W, k, r0, r1, x, y);
        case 3: return rows<3>(W, k, r0, r1, x, y);
        case 4: return rows<4>(W, k, r0, r1, x, y);
        case 5: return rows<5>(W, k, r0, r1, x, y);
        case 6: return rows<6>(W, k, r0, r1, x, y);
        case 7: return rows<7>(W, k, r0, r1, x, y);
        default: return rows<8>(W, k, r0, r1, x, y);
    }
}

}  // namespace

bool decode_matmul_supports(const ggml_tensor * op) {
    const ggml_tensor *w = op->src[0], *x = op->src[1];
    const bool         type = w->type == GGML_TYPE_F32 || w->type == GGML_TYPE_F16 || w->type == GGML_TYPE_BF16;
    return op->op == GGML_OP_MUL_MAT && type && x->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32 && ggml_is_contiguous(w) &&
           w->ne[2] == 1 && w->ne[3] == 1 && x->ne[2] == 1 && x->ne[3] == 1 && x->nb[0] == sizeof(float) && op->nb[0] == sizeof(float) &&
           x->ne[1] <= kDecodeMatmulMaxCols && ggml_nbytes(w) >= kDecodeMatmulMinBytes;
}

void decode_matmul(ggml_tensor * dst, int n_threads) {
    const ggml_tensor *w = dst->src[0], *xs = dst->src[1];
    const int64_t      k = w->ne[0], m = w->ne[1], n = xs->ne[1];
    const int64_t      tasks = (m + kRowsPerTask - 1) / kRowsPerTask;
#pragma omp parallel for num_threads(std::max(1, n_threads)) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        const int64_t r0 = t * kRowsPerTask, r1 = std::min(m, r0 + kRowsPerTask);
        for (int64_t j0 = 0; j0 < n; j0 += 8) {  // up to 8 columns per sweep; a second sweep finds W in L1/L2
            const int     nc = (int) std::min<int64_t>(8, n - j0);
            const float * x[8];
            float *       y[8];
            for (int j = 0; j < nc; j++) {
                x[j] = (const float *) ((const char *) xs->data + (j0 + j) * xs->nb[1]);
                y[j] = (float *) ((char *) dst->data + (j0 + j) * dst->nb[1]);
            }
            switch (w->type) {
                case GGML_TYPE_F16: rows_any(nc, (const ggml_fp16_t *) w->data, k, r0, r1, x, y); break;
                case GGML_TYPE_BF16: rows_any(nc, (const ggml_bf16_t *) w->data, k, r0, r1, x, y); break;
                default: rows_any(nc, (const float *) w->data, k, r0, r1, x, y); break;
            }
        }
    }
    g_nodes++;
}

long decode_matmul_nodes() { return g_nodes.load(); }

}  // namespace grm
