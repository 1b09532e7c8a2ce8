// grm's decode-sized matmul (engines/decode_matmul.h) against a float64 product written out here and
// against ggml's own CPU kernel, for F32, F16 and BF16 weights; which nodes the device claims; and
// in the engine, against llama.cpp's matmuls (greedy tokens).
#include "common/fixtures.h"
#include "common/random_model.h"
#include "device_runs.h"
#include "engines/decode_matmul.h"
#include "gguf/gguf_llama.h"

#include "ggml-cpu.h"
#include "ggml.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace grm;

namespace {

struct Errors {
    double float64 = 0, ggml = 0;  // max |y - ref| / (sum_i |w_i x_i| + 1e-3) over the outputs
};

// y = W x for W [k, m] of `type` (random values the type holds exactly) and x [k, n] F32.
Errors run(ggml_type type, int k, int m, int n, int threads) {
    ggml_init_params ip{ (size_t) k * m * 12 + (size_t) k * n * 8 + (size_t) m * n * 16 + (16u << 20), nullptr, false };
    ggml_context *   ctx = ggml_init(ip);
    ggml_tensor *    w   = ggml_new_tensor_2d(ctx, type, k, m);
    ggml_tensor *    x   = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, n);
    std::mt19937     rng(11);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> wf((size_t) k * m);
    for (auto & v : wf) v = nd(rng);
    if (type == GGML_TYPE_F16) {
        ggml_fp32_to_fp16_row(wf.data(), (ggml_fp16_t *) w->data, (int64_t) wf.size());
        ggml_fp16_to_fp32_row((const ggml_fp16_t *) w->data, wf.data(), (int64_t) wf.size());
    } else if (type == GGML_TYPE_BF16) {
        ggml_fp32_to_bf16_row(wf.data(), (ggml_bf16_t *) w->data, (int64_t) wf.size());
        ggml_bf16_to_fp32_row((const ggml_bf16_t *) w->data, wf.data(), (int64_t) wf.size());
    } else {
        std::memcpy(w->data, wf.data(), wf.size() * sizeof(float));
    }
    for (int64_t i = 0; i < (int64_t) k * n; i++) ((float *) x->data)[i] = nd(rng);
    ggml_tensor * mine = ggml_mul_mat(ctx, w, x);  // [m, n]
    ggml_tensor * ref  = ggml_mul_mat(ctx, w, x);
    EXPECT_TRUE(decode_matmul_supports(mine) || ggml_nbytes(w) < (size_t) kDecodeMatmulMinBytes);
    decode_matmul(mine, threads);
    ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, ref);
    EXPECT_EQ(ggml_graph_compute_with_ctx(ctx, gf, 1), GGML_STATUS_SUCCESS);
    Errors e;
    const float * xf = (const float *) x->data;
    for (int j = 0; j < n; j++)
        for (int r = 0; r < m; r++) {
            double s = 0, a = 0;
            for (int c = 0; c < k; c++) {
                s += (double) wf[(size_t) r * k + c] * xf[(size_t) j * k + c];
                a += std::fabs((double) wf[(size_t) r * k + c] * xf[(size_t) j * k + c]);
            }
            const double y = ((const float *) mine->data)[(size_t) j * m + r], g = ((const float *) ref->data)[(size_t) j * m + r];
            e.float64      = std::max(e.float64, std::fabs(y - s) / (a + 1e-3));
            e.ggml         = std::max(e.ggml, std::fabs(y - g) / (a + 1e-3));
        }
    ggml_free(ctx);
    return e;
}

}  // namespace

// F32 accumulation of exact inputs: within a few float roundings of the sum of |terms|. ggml rounds
// x to W's type for F16 and BF16 (2^-11 and 2^-8 relative), so its product is further off there.
TEST(DecodeMatmul, F32WeightsMatchFloat64AndGgml) {
    for (int n : { 1, 5, 8, 9, 16 }) {
        const Errors e = run(GGML_TYPE_F32, 512, 600, n, 1);  // 1.2 MiB: a size the device claims
        EXPECT_LT(e.float64, 1e-6) << "n " << n;
        EXPECT_LT(e.ggml, 1e-5) << "n " << n;
    }
}

TEST(DecodeMatmul, F16WeightsMatchFloat64AndGgml) {
    const Errors e = run(GGML_TYPE_F16, 1024, 640, 8, 2);
    EXPECT_LT(e.float64, 1e-6);
    EXPECT_LT(e.ggml, 2e-3);
}

TEST(DecodeMatmul, Bf16WeightsMatchFloat64AndGgml) {
    const Errors e = run(GGML_TYPE_BF16, 1024, 640, 3, 2);
    EXPECT_LT(e.float64, 1e-6);
    EXPECT_LT(e.ggml, 1.6e-2);
}

TEST(DecodeMatmul, RowsThatAreNotWholeVectorsAndAnOddRowCount) {
    const Errors e = run(GGML_TYPE_F32, 100, 37, 7, 2);  // 4 weights past the last vector; a last row alone
    EXPECT_LT(e.float64, 1e-6);
    EXPECT_LT(e.ggml, 1e-5);
}

TEST(DecodeMatmul, ClaimsDecodeSizedProductsOfLargeFloatWeights) {
    ggml_init_params ip{ 8u << 20, nullptr, true };  // shapes only
    ggml_context *   ctx = ggml_init(ip);
    auto             mm  = [&](ggml_type t, int k, int m, int n) {
        return ggml_mul_mat(ctx, ggml_new_tensor_2d(ctx, t, k, m), ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, n));
    };
    EXPECT_TRUE(decode_matmul_supports(mm(GGML_TYPE_F32, 512, 512, 8)));    // 1 MiB
    EXPECT_TRUE(decode_matmul_supports(mm(GGML_TYPE_F16, 1024, 512, 16)));  // 1 MiB
    EXPECT_TRUE(decode_matmul_supports(mm(GGML_TYPE_BF16, 1024, 512, 1)));
    EXPECT_FALSE(decode_matmul_supports(mm(GGML_TYPE_F32, 512, 511, 8)));   // under 1 MiB: stays in the caches
    EXPECT_FALSE(decode_matmul_supports(mm(GGML_TYPE_F32, 512, 512, 17)));  // a prefill chunk
    EXPECT_FALSE(decode_matmul_supports(mm(GGML_TYPE_Q8_0, 1024, 1024, 8)));  // quantized: ggml's
    ggml_tensor * w3 = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, 512, 512, 2);
    EXPECT_FALSE(decode_matmul_supports(ggml_mul_mat(ctx, w3, ggml_new_tensor_3d(ctx, GGML_TYPE_F32, 512, 8, 2))));  // batched
    ggml_free(ctx);
}

// The same 8 greedy samples from llama.cpp's matmuls and from the device's, on a model whose FFN
// matrices are 1 MiB (F32 [256, 1024]); the first engine test of this binary, so the reference run
// has no device (it is process-wide once registered).
TEST(DecodeMatmul, EngineGreedyTokensMatchLlamaCppMatmuls) {
    LlamaConfig c = test::default_tiny_config();
    c.n_embd = 256, c.n_head = 4, c.n_head_kv = 2, c.n_ff = 1024;
    const std::string gguf = test::temp_dir() + "/ffn-1mib.gguf";
    ASSERT_TRUE(write_gguf_llama(gguf, random_llama_model(c, 5)).ok());
    const test::DeviceRuns r = test::device_runs(gguf, { decode_matmul_nodes });
    ASSERT_EQ(r.texts[1].size(), 8u);
    ASSERT_EQ(r.counted[1].size(), 1u);
    EXPECT_EQ(r.texts[0], r.texts[1]);
    EXPECT_FALSE(r.texts[1][0].empty());
    EXPECT_EQ(r.counted[0][0], 0);
    EXPECT_GE(r.counted[1][0], 31L * c.n_layer * 3);  // gate, up and down of every layer in every decode step
    EXPECT_LE(r.counted[1][0], 34L * c.n_layer * 3);  // not the attention's 256 KiB matrices, not the prompt
}
