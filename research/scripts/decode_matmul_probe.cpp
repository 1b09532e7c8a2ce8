// Probe (issue 25): one decode step's weight products of bench_judge's random 20.4 M F32 model
// (7 layers of q, k, v, o [512 -> 512|256] and gate, up, down [512 <-> 1376]: 49 matrices, 81 MB,
// more than the L3 cache holds) at 8 columns, by grm's decode_matmul and by ggml's own mul_mat,
// alternating; best of 20 sweeps each. Build and run from the checkout (P: the llama.cpp prefix
// scripts/setup.sh installs, e.g. ~/.cache/grm/llama.cpp-npm-3.21.1):
//   g++ -O2 -march=native -fopenmp -Isrc -I$P/include research/scripts/decode_matmul_probe.cpp \
//       src/engines/decode_matmul.cpp -L$P/lib -lggml -lggml-cpu -lggml-base -o /tmp/dmm && /tmp/dmm
#include "engines/decode_matmul.h"

#include <ggml-cpu.h>
#include <ggml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

int main() {
    const int n = 8, layers = 7;
    struct Shape { int64_t k, m; };
    const std::vector<Shape> per_layer = { { 512, 512 }, { 512, 256 }, { 512, 256 }, { 512, 512 }, { 512, 1376 }, { 512, 1376 }, { 1376, 512 } };
    ggml_init_params ip{ (size_t) 120 << 20, nullptr, false };
    ggml_context *   ctx = ggml_init(ip);
    ggml_tensor *    x512 = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, 512, n), *x1376 = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, 1376, n);
    for (ggml_tensor * x : { x512, x1376 })
        for (int64_t i = 0; i < ggml_nelements(x); i++) ((float *) x->data)[i] = 0.01f * (float) (i % 97);
    std::vector<ggml_tensor *> products;
    ggml_cgraph *              gf = ggml_new_graph(ctx);
    for (int l = 0; l < layers; l++)
        for (const Shape & s : per_layer) {
            ggml_tensor * w = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, s.k, s.m);
            for (int64_t i = 0; i < s.k * s.m; i++) ((float *) w->data)[i] = 1e-3f * (float) (i % 13);
            products.push_back(ggml_mul_mat(ctx, w, s.k == 512 ? x512 : x1376));
            ggml_build_forward_expand(gf, products.back());
        }
    double best[2] = { 1e30, 1e30 };
    for (int rep = 0; rep < 20; rep++)
        for (int side = 0; side < 2; side++) {
            const auto t0 = std::chrono::steady_clock::now();
            if (side == 0) ggml_graph_compute_with_ctx(ctx, gf, 1);
            else
                for (ggml_tensor * p : products) grm::decode_matmul(p, 1);
            best[side] = std::min(best[side], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
    std::printf("49 F32 weight products, 81 MB, 8 columns, 1 thread: ggml %.2f ms, grm decode_matmul %.2f ms (%.2fx)\n",
                best[0] * 1e3, best[1] * 1e3, best[1] / best[0]);
    ggml_free(ctx);
}
