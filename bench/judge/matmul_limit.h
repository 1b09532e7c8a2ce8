// The machine's limit for a judgment's work, measured in the same run with ggml's own CPU kernels
// on the model's shapes: every weight matrix at the batch sizes a judgment uses (a prefill chunk,
// one decode step of k sequences), and the attention a judgment needs: causal over the prompt (its
// FLOPs at the prefill chunks' rate), then per decode step the k samples' queries against the
// shared prompt's keys and values (one F16 KV matmul pair per KV head and layer at the average
// length; a sample's own few cells are left out, other samples' cells are never needed). Norms,
// softmax, sampling and the rest are left out, so the limit is a lower bound on an engine's time.
#pragma once

#include <ggml-cpu.h>
#include <ggml.h>
#include <gguf.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace grm::bench {

struct MatmulLimit {
    double seconds   = 0;  // weights' matmuls + needed attention of one judgment
    double attention = 0;  // of which attention (seconds)
    double gflops    = 0;  // reached by the prefill chunks
    double decode_ms = 0;  // one decode step of k tokens
    double read_gbs  = 0;  // memory read bandwidth (a 256 MiB sum)
};

namespace detail {

// Seconds for W[k_in, m_out] (type t) x X[k_in, n], best of reps.
inline double time_matmul(ggml_type t, int64_t k_in, int64_t m_out, int64_t n, int threads, int reps) {
    const size_t      bytes = ggml_row_size(t, k_in) * m_out + sizeof(float) * (k_in * n + m_out * n) + 4 * ggml_tensor_overhead() +
                         ggml_graph_overhead() + sizeof(float) * k_in * n + (1 << 20);  // + the work buffer (X converted to W's type)
    ggml_init_params  ip  = { bytes, nullptr, false };
    ggml_context *    ctx = ggml_init(ip);
    ggml_tensor *     w   = ggml_new_tensor_2d(ctx, t, k_in, m_out);
    ggml_tensor *     x   = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k_in, n);
    std::memset(w->data, 0, ggml_nbytes(w));  // zeros in any type; speed does not depend on values
    for (int64_t i = 0; i < k_in * n; i++) ((float *) x->data)[i] = 0.01f * (float) (i % 97);
    ggml_tensor * y  = ggml_mul_mat(ctx, w, x);
    ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, y);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        auto t0 = std::chrono::steady_clock::now();
        ggml_graph_compute_with_ctx(ctx, gf, threads);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    ggml_free(ctx);
    return best;
}

inline double read_bandwidth_gbs() {
    std::vector<float> buf((256u << 20) / sizeof(float), 1.0f);
    double             best = 1e30;
    volatile float     sink = 0;
    for (int r = 0; r < 3; r++) {
        auto  t0  = std::chrono::steady_clock::now();
        float acc[16] = { 0 };
        for (size_t i = 0; i + 16 <= buf.size(); i += 16)
            for (int j = 0; j < 16; j++) acc[j] += buf[i + j];
        for (float a : acc) sink = sink + a;
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return (double) buf.size() * sizeof(float) / best / 1e9;
}

}  // namespace detail

// The weights' matmul time of one judgment of the GGUF at `path`: a prompt of prompt_tokens
// prefilled once in chunks of ubatch (the output head only for its last token), then `steps`
// decode steps of k tokens each.
inline MatmulLimit matmul_limit(const std::string & path, int prompt_tokens, int steps, int k, int threads, int ubatch = 512) {
    MatmulLimit   lim;
    ggml_context * meta = nullptr;
    gguf_init_params gp = { true, &meta };
    gguf_context *  g   = gguf_init_from_file(path.c_str(), gp);
    if (!g) return lim;
    auto key = [&](const char * name) -> double {
        int64_t a = gguf_find_key(g, "general.architecture");
        if (a < 0) return 0;
        int64_t id = gguf_find_key(g, (std::string(gguf_get_val_str(g, a)) + "." + name).c_str());
        return id < 0 ? 0 : (double) gguf_get_val_u32(g, id);
    };
    const double n_embd = key("embedding_length"), n_layer = key("block_count"), n_head = key("attention.head_count");
    const double n_head_kv = key("attention.head_count_kv") > 0 ? key("attention.head_count_kv") : n_head;
    // shape (type, in, out) -> how many matrices of it; the output head apart (it runs on fewer tokens)
    std::map<std::tuple<int, int64_t, int64_t>, int> shapes;
    std::tuple<int, int64_t, int64_t>                head{ -1, 0, 0 };
    bool                                             has_output = false;
    for (ggml_tensor * t = ggml_get_first_tensor(meta); t; t = ggml_get_next_tensor(meta, t)) {
        std::string name = ggml_get_name(t);
        if (ggml_n_dims(t) != 2) continue;
        auto shape = std::make_tuple((int) t->type, t->ne[0], t->ne[1]);
        if (name == "output.weight") has_output = true, head = shape;
        else if (name == "token_embd.weight") { if (!has_output) head = shape; }  // tied: the embedding is the head
        else shapes[shape]++;
    }
    gguf_free(g);
    ggml_free(meta);
    const int chunks = (prompt_tokens + ubatch - 1) / ubatch;
    double    flops = 0, secs_big = 0;
    for (auto & [s, count] : shapes) {
        auto [t, kin, mout] = s;
        double big          = detail::time_matmul((ggml_type) t, kin, mout, ubatch, threads, 3);
        double step         = detail::time_matmul((ggml_type) t, kin, mout, k, threads, 5);
        double last         = prompt_tokens - (double) (chunks - 1) * ubatch;  // the last chunk's tokens
        lim.seconds += count * (big * (chunks - 1 + last / ubatch) + step * steps);
        lim.decode_ms += count * step * 1e3;
        flops += count * 2.0 * kin * mout * ubatch;
        secs_big += count * big;
    }
    if (std::get<0>(head) >= 0) {
        auto [t, kin, mout] = head;
        double one          = detail::time_matmul((ggml_type) t, kin, mout, 1, threads, 5);
        double step         = detail::time_matmul((ggml_type) t, kin, mout, k, threads, 5);
        lim.seconds += one + step * steps;
        lim.decode_ms += step * 1e3;
    }
    lim.gflops   = secs_big > 0 ? flops / secs_big / 1e9 : 0;
    // prefill attention: QK^T and AV, 2 FLOP per multiply-add, n_embd query dims per cell and layer
    const double P = prompt_tokens;
    if (lim.gflops > 0) lim.attention = 2 * 2 * n_embd * n_layer * P * (P + 1) / 2 / (lim.gflops * 1e9);
    // decode attention, per KV head and layer: K [head_dim, cells] x Q [head_dim, k x queries per KV head],
    // then V^T [cells, head_dim] x the scores [cells, k x queries per KV head]
    if (n_head > 0 && steps > 0) {
        const int64_t hd = (int64_t) (n_embd / n_head), cells = prompt_tokens + steps / 2, q = (int64_t) (k * n_head / n_head_kv);
        const double  step = detail::time_matmul(GGML_TYPE_F16, hd, cells, q, threads, 5) + detail::time_matmul(GGML_TYPE_F16, cells, hd, q, threads, 5);
        lim.attention += step * n_head_kv * n_layer * steps;
    }
    lim.seconds += lim.attention;
    lim.read_gbs = detail::read_bandwidth_gbs();
    return lim;
}

}  // namespace grm::bench
