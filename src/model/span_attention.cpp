// Causal span attention on the CPU: forward saves the probabilities P, backward uses them
// (dS = P * (dP - rowsum(dO * O)), the softmax gradient), all products as row-major SGEMMs on
// strided views of q/k/v, so no head is ever copied or transposed.
#include "model/span_attention.h"

#include "model/cpu_clones.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#ifdef GRM_HAVE_CBLAS
#include <cblas.h>
#endif

namespace grm::model {

namespace {

constexpr int64_t kBlock = 64;  // query rows per GEMM: the diagonal is skipped at this granularity

#ifdef GRM_HAVE_CBLAS
// Row-major C[m, n] = alpha op(A)[m, k] op(B)[k, n] + beta C.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float * a, int64_t lda,
          const float * b, int64_t ldb, float beta, float * c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
                alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}
#endif

// e^x for x <= 0 (softmax after the max is subtracted): Cephes' range reduction and degree-6
// polynomial, relative error ~2e-7; branch-free so the loops vectorise. Below -87 gives 0.
inline float exp_nonpositive(float x) {
    x            = std::max(x, -87.0f);
    const float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float       r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float       p = 1.9875691500e-4f;
    p             = p * r + 1.3981999507e-3f;
    p             = p * r + 8.3334519073e-3f;
    p             = p * r + 4.1665795894e-2f;
    p             = p * r + 1.6666665459e-1f;
    p             = p * r + 5.0000001201e-1f;
    p             = p * r * r + r + 1.0f;
    int32_t bits  = (int32_t(n) + 127) << 23;
    float   scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// One row of scores s[0, e): softmax over [0, n) in place, zeros on [n, e).
GRM_CLONES void softmax_row(float * s, int64_t n, int64_t e) {
    float m = s[0];
    for (int64_t i = 1; i < n; ++i) m = s[i] > m ? s[i] : m;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
        s[i] = exp_nonpositive(s[i] - m);
        sum += s[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; ++i) s[i] *= inv;
    for (int64_t i = n; i < e; ++i) s[i] = 0.0f;
}

// One row of the softmax gradient: ds[i] = p[i] * (ds[i] - d) on [0, e) (p is 0 above the diagonal).
GRM_CLONES void softmax_grad_row(float * ds, const float * p, float d, int64_t e) {
    for (int64_t i = 0; i < e; ++i) ds[i] = p[i] * (ds[i] - d);
}

GRM_CLONES float dot(const float * a, const float * b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

// Where everything lives: q/out rows are H*hd floats apart, k/v rows Hkv*hd; span i's probabilities
// start at poff[i] and hold H matrices [len, len] (row t valid on columns <= t).
struct Layout {
    int64_t              T, H, Hkv, hd, g;
    const int64_t *      sp;  // [n, 3] (row, start, len)
    std::vector<int64_t> poff;

    Layout(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & spans)
        : T(q.size(1)), H(q.size(2)), Hkv(k.size(2)), hd(q.size(3)), g(H / Hkv), sp(spans.data_ptr<int64_t>()) {
        int64_t off = 0;
        for (int64_t i = 0; i < spans.size(0); ++i) {
            poff.push_back(off);
            off += sp[3 * i + 2] * sp[3 * i + 2] * H;
        }
        poff.push_back(off);
    }
    int64_t n() const { return int64_t(poff.size()) - 1; }
    // Offset of the first row of span i at head h in a tensor with `heads` heads.
    int64_t at(int64_t i, int64_t h, int64_t heads) const { return ((sp[3 * i] * T + sp[3 * i + 1]) * heads + h) * hd; }
};

#ifdef GRM_HAVE_CBLAS
// Tasks are (span, kv head) pairs: each owns its rows of dk/dv, so no two threads write one float.
// Spans differ in length (cost ~ len^2), so threads take the longest remaining task from a shared
// counter instead of a fixed share; which thread runs a task never changes its result.
template <class F> void for_each_task(const Layout & L, const F & f) {
    std::vector<int64_t> order(size_t(L.n()));
    for (int64_t i = 0; i < L.n(); ++i) order[size_t(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return L.sp[3 * a + 2] > L.sp[3 * b + 2]; });
    const int64_t        tasks = L.n() * L.Hkv;
    std::atomic<int64_t> next{0};
    at::parallel_for(0, std::min<int64_t>(tasks, at::get_num_threads()), 1, [&](int64_t, int64_t) {
        for (int64_t t; (t = next.fetch_add(1)) < tasks;) f(order[size_t(t / L.Hkv)], t % L.Hkv);
    });
}

void forward_cpu(const Layout & L, const float * q, const float * k, const float * v, float scale, float * out,
                 float * probs) {
    const int64_t ldq = L.H * L.hd, ldk = L.Hkv * L.hd;
    for_each_task(L, [&](int64_t i, int64_t c) {
        const int64_t len = L.sp[3 * i + 2];
        const float * K = k + L.at(i, c, L.Hkv);
        const float * V = v + L.at(i, c, L.Hkv);
        for (int64_t h = c * L.g; h < (c + 1) * L.g; ++h) {
            const float * Q = q + L.at(i, h, L.H);
            float *       O = out + L.at(i, h, L.H);
            float *       P = probs + L.poff[i] + h * len * len;
            for (int64_t r0 = 0; r0 < len; r0 += kBlock) {
                const int64_t nb = std::min(kBlock, len - r0), e = r0 + nb;  // rows [r0, e) see keys [0, e)
                gemm(false, true, nb, e, L.hd, scale, Q + r0 * ldq, ldq, K, ldk, 0.0f, P + r0 * len, len);
                for (int64_t t = r0; t < e; ++t) softmax_row(P + t * len, t + 1, e);
                gemm(false, false, nb, L.hd, e, 1.0f, P + r0 * len, len, V, ldk, 0.0f, O + r0 * ldq, ldq);
            }
        }
    });
}

void backward_cpu(const Layout & L, const float * q, const float * k, const float * v, const float * out,
                  const float * probs, const float * dout, float scale, float * dq, float * dk, float * dv) {
    const int64_t ldq = L.H * L.hd, ldk = L.Hkv * L.hd;
    for_each_task(L, [&](int64_t i, int64_t c) {
        const int64_t      len = L.sp[3 * i + 2];
        std::vector<float> ds(size_t(kBlock * len)), d(kBlock);
        const float *      K  = k + L.at(i, c, L.Hkv);
        const float *      V  = v + L.at(i, c, L.Hkv);
        float *            dK = dk + L.at(i, c, L.Hkv);
        float *            dV = dv + L.at(i, c, L.Hkv);
        for (int64_t h = c * L.g; h < (c + 1) * L.g; ++h) {
            const int64_t qo = L.at(i, h, L.H);
            const float * P  = probs + L.poff[i] + h * len * len;
            for (int64_t r0 = 0; r0 < len; r0 += kBlock) {
                const int64_t nb = std::min(kBlock, len - r0), e = r0 + nb;
                const float * Q = q + qo + r0 * ldq, *O = out + qo + r0 * ldq, *dO = dout + qo + r0 * ldq;
                // dP [nb, e] = dO V^T, then dS = P * (dP - rowsum(dO * O)) in place.
                gemm(false, true, nb, e, L.hd, 1.0f, dO, ldq, V, ldk, 0.0f, ds.data(), e);
                for (int64_t r = 0; r < nb; ++r) {
                    d[r] = dot(dO + r * ldq, O + r * ldq, L.hd);
                    softmax_grad_row(ds.data() + r * e, P + (r0 + r) * len, d[r], e);
                }
                gemm(false, false, nb, L.hd, e, scale, ds.data(), e, K, ldk, 0.0f, dq + qo + r0 * ldq, ldq);  // dQ = s dS K
                gemm(true, false, e, L.hd, nb, scale, ds.data(), e, Q, ldq, 1.0f, dK, ldk);   // dK += s dS^T Q
                gemm(true, false, e, L.hd, nb, 1.0f, P + r0 * len, len, dO, ldq, 1.0f, dV, ldk);  // dV += P^T dO
            }
        }
    });
}

struct SpanAttentionFn : torch::autograd::Function<SpanAttentionFn> {
    static torch::Tensor forward(torch::autograd::AutogradContext * ctx, const torch::Tensor & q,
                                 const torch::Tensor & k, const torch::Tensor & v, const torch::Tensor & spans,
                                 double scale) {
        const Layout L(q, k, spans);
        auto         out   = torch::empty_like(q);
        auto         probs = torch::empty({L.poff.back()}, q.options());
        forward_cpu(L, q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(), float(scale),
                    out.data_ptr<float>(), probs.data_ptr<float>());
        ctx->save_for_backward({q, k, v, out, probs, spans});
        ctx->saved_data["scale"] = scale;
        return out;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext * ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto s = ctx->get_saved_variables();
        const auto & q = s[0], & k = s[1], & v = s[2], & out = s[3], & probs = s[4], & spans = s[5];
        const Layout L(q, k, spans);
        auto         dout = grads[0].contiguous();
        auto         dq = torch::zeros_like(q), dk = torch::zeros_like(k), dv = torch::zeros_like(v);
        backward_cpu(L, q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(), out.data_ptr<float>(),
                     probs.data_ptr<float>(), dout.data_ptr<float>(), float(ctx->saved_data["scale"].toDouble()),
                     dq.data_ptr<float>(), dk.data_ptr<float>(), dv.data_ptr<float>());
        return {dq, dk, dv, torch::Tensor(), torch::Tensor()};
    }
};
#endif

}  // namespace

bool span_attention_supported(const torch::Tensor & q) {
#ifdef GRM_HAVE_CBLAS
    return q.device().is_cpu() && q.scalar_type() == torch::kFloat32;
#else
    (void) q;
    return false;
#endif
}

torch::Tensor span_attention(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v,
                             const torch::Tensor & spans, double scale) {
    TORCH_CHECK(span_attention_supported(q), "span_attention: needs f32 CPU tensors and a CBLAS build");
    TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.sizes() == k.sizes() && q.size(2) % k.size(2) == 0,
                "span_attention: q [B, T, H, hd], k/v [B, T, Hkv, hd]");
    TORCH_CHECK(spans.dim() == 2 && spans.size(1) == 3 && spans.scalar_type() == torch::kLong,
                "span_attention: spans [n, 3] int64");
#ifdef GRM_HAVE_CBLAS
    return SpanAttentionFn::apply(q.contiguous(), k.contiguous(), v.contiguous(), spans.contiguous(), scale);
#else
    return {};
#endif
}

}  // namespace grm::model
