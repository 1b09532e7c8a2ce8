// The trainer's fused CPU ops against the same formulas written with plain torch ops, in value and
// gradient: span_attention (softmax(q k^T s + bias) v per span), rms_norm and apply_rope.
#include "model/cpu_ops.h"
#include "model/span_attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

using namespace grm::model;

namespace {

// The same attention with plain ops: per span, causal bias, grouped heads by repeat_interleave.
torch::Tensor reference(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v,
                        const std::vector<std::array<int64_t, 3>> & spans, double scale) {
    const int64_t g = q.size(2) / k.size(2);
    auto          out = torch::zeros_like(q);
    for (const auto & [row, start, len] : spans) {
        auto part = [&](const torch::Tensor & t) { return t[row].narrow(0, start, len).transpose(0, 1); };  // [heads, len, hd]
        auto qs = part(q), ks = part(k).repeat_interleave(g, 0), vs = part(v).repeat_interleave(g, 0);
        auto bias = torch::full({len, len}, -std::numeric_limits<float>::infinity()).triu(1);
        auto y    = torch::softmax(torch::matmul(qs, ks.transpose(1, 2)) * scale + bias, -1).matmul(vs);  // [H, len, hd]
        out[row].narrow(0, start, len).copy_(y.transpose(0, 1));
    }
    return out;
}

}  // namespace

TEST(SpanAttention, EqualsPlainOpsInValueAndGradient) {
    if (!span_attention_supported(torch::zeros({1}))) GTEST_SKIP() << "built without CBLAS";
    // Lengths on both sides of the 64-row block (1, 63, 64, 65, 130), grouped (8/4) and plain (4/4) heads.
    const std::vector<std::array<int64_t, 3>> spans = {{0, 0, 63}, {0, 63, 1}, {0, 64, 130}, {1, 0, 65}, {1, 65, 64}, {1, 129, 65}};
    auto st = torch::empty({int64_t(spans.size()), 3}, torch::kLong);
    for (size_t i = 0; i < spans.size(); ++i)
        for (int j = 0; j < 3; ++j) st[int64_t(i)][j] = spans[i][size_t(j)];
    for (int64_t hkv : {4, 2}) {
        torch::manual_seed(7);
        const int64_t B = 2, T = 194, H = 4, hd = 16;
        auto          q = torch::randn({B, T, H, hd}).requires_grad_(), k = torch::randn({B, T, hkv, hd}).requires_grad_(),
             v = torch::randn({B, T, hkv, hd}).requires_grad_();
        auto up    = torch::randn({B, T, H, hd});  // upstream gradient
        auto scale = 1.0 / std::sqrt(double(hd));

        auto got = span_attention(q, k, v, st, scale);
        auto want = reference(q, k, v, spans, scale);
        // f32 with sums of up to 130 terms in another order: ~1e-6; 2e-5 leaves room, a wrong mask is O(0.1).
        EXPECT_LT((got - want).abs().max().item<double>(), 2e-5) << "kv heads " << hkv;
        auto grads = [&](const torch::Tensor & y) {
            auto g = torch::autograd::grad({y}, {q, k, v}, {up});
            return g;
        };
        auto gg = grads(got), gw = grads(want);
        for (int i = 0; i < 3; ++i)
            EXPECT_LT((gg[size_t(i)] - gw[size_t(i)]).abs().max().item<double>(), 5e-5) << "kv heads " << hkv << " grad " << i;
    }
}

TEST(SpanAttention, SameBitsOnOneOrTwoThreads) {
    if (!span_attention_supported(torch::zeros({1}))) GTEST_SKIP() << "built without CBLAS";
    torch::manual_seed(3);
    auto q = torch::randn({2, 100, 4, 8}).requires_grad_(), k = torch::randn({2, 100, 2, 8}).requires_grad_();
    auto v  = torch::randn({2, 100, 2, 8}).requires_grad_();
    auto st = torch::tensor({0, 0, 30, 0, 30, 70, 1, 0, 100}, torch::kLong).view({3, 3});
    auto run = [&](int threads) {
        const int before = torch::get_num_threads();
        torch::set_num_threads(threads);
        auto y = span_attention(q, k, v, st, 0.35);
        auto g = torch::autograd::grad({y.sum()}, {q, k, v});
        torch::set_num_threads(before);
        return std::vector<torch::Tensor>{y, g[0], g[1], g[2]};
    };
    auto a = run(1), b = run(2);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;  // each (span, head) is one thread's work
}

TEST(CpuOps, RmsNormAndRopeEqualPlainOpsInValueAndGradient) {
    torch::manual_seed(11);
    auto x = (torch::randn({3, 70, 48}) * 3).requires_grad_(), w = torch::randn({48}).requires_grad_();
    auto up = torch::randn({3, 70, 48});
    auto got = rms_norm(x, w, 1e-5), want = x * torch::rsqrt(x.pow(2).mean(-1, true) + 1e-5) * w;
    // f32 rows of 48: both sides round differently at ~1e-7 relative; a wrong formula is O(1).
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-5);
    auto gg = torch::autograd::grad({got}, {x, w}, {up}), gw = torch::autograd::grad({want}, {x, w}, {up});
    EXPECT_LT((gg[0] - gw[0]).abs().max().item<double>(), 1e-5);
    EXPECT_LT((gg[1] - gw[1]).abs().max().item<double>(), 1e-4);  // a sum over 210 rows

    for (bool neox : {false, true}) {
        auto q = torch::randn({2, 9, 3, 16}).requires_grad_();
        auto a = torch::rand({2, 9, 1, 8}) * 6.0;
        auto c = a.cos(), s = a.sin();
        auto r = torch::randn({2, 9, 3, 16});
        auto got_r = apply_rope(q, c, s, neox);
        torch::Tensor want_r;
        if (neox) {
            auto h = q.chunk(2, -1);
            want_r = torch::cat({h[0] * c - h[1] * s, h[0] * s + h[1] * c}, -1);
        } else {
            auto p = q.view({2, 9, 3, 8, 2});
            auto x0 = p.select(-1, 0), x1 = p.select(-1, 1);
            want_r = torch::stack({x0 * c - x1 * s, x0 * s + x1 * c}, -1).view({2, 9, 3, 16});
        }
        EXPECT_LT((got_r - want_r).abs().max().item<double>(), 1e-6) << "neox " << neox;
        auto g1 = torch::autograd::grad({got_r}, {q}, {r})[0], g2 = torch::autograd::grad({want_r}, {q}, {r})[0];
        EXPECT_LT((g1 - g2).abs().max().item<double>(), 1e-6) << "neox " << neox;
    }
}
