// The fused CPU ops: rows are split over torch's threads; reductions over rows (the norm weight's
// gradient) go through fixed blocks of rows, so the result does not depend on the thread count.
#include "model/cpu_ops.h"

#include "model/cpu_clones.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace grm::model {

namespace {

bool fused(const torch::Tensor & x) { return x.device().is_cpu() && x.scalar_type() == torch::kFloat32; }

constexpr int64_t kRowBlock = 64;  // rows per partial sum of the weight gradient

GRM_CLONES void norm_rows(const float * x, const float * w, float * y, float * r, int64_t d, int64_t b, int64_t e,
                          float eps) {
    for (int64_t i = b; i < e; ++i) {
        const float * xi = x + i * d;
        float         ss = 0.0f;
        for (int64_t j = 0; j < d; ++j) ss += xi[j] * xi[j];
        const float ri = 1.0f / std::sqrt(ss / float(d) + eps);
        r[i]           = ri;
        for (int64_t j = 0; j < d; ++j) y[i * d + j] = xi[j] * ri * w[j];
    }
}

// dx = r g - x r^3 / d sum(g x) with g = dy w; dw_part += dy x r over the block's rows.
GRM_CLONES void norm_grad_rows(const float * x, const float * w, const float * r, const float * dy, float * dx,
                               float * dw_part, int64_t d, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
        const float *xi = x + i * d, *dyi = dy + i * d;
        float        gx = 0.0f;
        for (int64_t j = 0; j < d; ++j) gx += dyi[j] * w[j] * xi[j];
        const float ri = r[i], c = gx * ri * ri * ri / float(d);
        for (int64_t j = 0; j < d; ++j) {
            dx[i * d + j] = ri * dyi[j] * w[j] - xi[j] * c;
            dw_part[j] += dyi[j] * xi[j] * ri;
        }
    }
}

struct RmsNormFn : torch::autograd::Function<RmsNormFn> {
    static torch::Tensor forward(torch::autograd::AutogradContext * ctx, const torch::Tensor & x_in,
                                 const torch::Tensor & w_in, double eps) {
        auto          x = x_in.contiguous(), w = w_in.contiguous();
        const int64_t d = x.size(-1), n = x.numel() / d;
        auto          y = torch::empty_like(x), r = torch::empty({n}, x.options());
        at::parallel_for(0, n, kRowBlock, [&](int64_t b, int64_t e) {
            norm_rows(x.data_ptr<float>(), w.data_ptr<float>(), y.data_ptr<float>(), r.data_ptr<float>(), d, b, e,
                      float(eps));
        });
        ctx->save_for_backward({x, w, r});
        return y;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext * ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto    s = ctx->get_saved_variables();
        const auto &  x = s[0], &w = s[1], &r = s[2];
        auto          dy = grads[0].contiguous();
        const int64_t d = x.size(-1), n = x.numel() / d, blocks = (n + kRowBlock - 1) / kRowBlock;
        auto          dx = torch::empty_like(x), part = torch::zeros({blocks, d}, x.options());
        at::parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
            for (int64_t k = b; k < e; ++k)
                norm_grad_rows(x.data_ptr<float>(), w.data_ptr<float>(), r.data_ptr<float>(), dy.data_ptr<float>(),
                               dx.data_ptr<float>(), part.data_ptr<float>() + k * d, d, k * kRowBlock,
                               std::min(n, (k + 1) * kRowBlock));
        });
        return {dx, part.sum(0), torch::Tensor()};
    }
};

// out = (x0 c - x1 s, x0 s + x1 c) per pair; sign = -1 rotates back (the gradient).
GRM_CLONES void rotate_rows(const float * x, const float * cs, const float * sn, float * y, int64_t heads, int64_t hd,
                            bool neox, float sign, int64_t b, int64_t e) {
    const int64_t half = hd / 2;
    for (int64_t row = b; row < e; ++row) {  // row = (b, t): one angle table, `heads` heads
        const float *c = cs + row * half, *s = sn + row * half;
        for (int64_t h = 0; h < heads; ++h) {
            const float * xi = x + (row * heads + h) * hd;
            float *       yi = y + (row * heads + h) * hd;
            if (neox) {
                for (int64_t i = 0; i < half; ++i) {
                    const float x0 = xi[i], x1 = xi[i + half], si = sign * s[i];
                    yi[i]        = x0 * c[i] - x1 * si;
                    yi[i + half] = x0 * si + x1 * c[i];
                }
            } else {
                for (int64_t i = 0; i < half; ++i) {
                    const float x0 = xi[2 * i], x1 = xi[2 * i + 1], si = sign * s[i];
                    yi[2 * i]     = x0 * c[i] - x1 * si;
                    yi[2 * i + 1] = x0 * si + x1 * c[i];
                }
            }
        }
    }
}

torch::Tensor rotate(const torch::Tensor & x_in, const torch::Tensor & cos, const torch::Tensor & sin, bool neox,
                     float sign) {
    auto          x = x_in.contiguous(), c = cos.contiguous(), s = sin.contiguous();
    const int64_t rows = x.size(0) * x.size(1), heads = x.size(2), hd = x.size(3);
    auto          y = torch::empty_like(x);
    at::parallel_for(0, rows, 16, [&](int64_t b, int64_t e) {
        rotate_rows(x.data_ptr<float>(), c.data_ptr<float>(), s.data_ptr<float>(), y.data_ptr<float>(), heads, hd, neox,
                    sign, b, e);
    });
    return y;
}

struct RopeFn : torch::autograd::Function<RopeFn> {
    static torch::Tensor forward(torch::autograd::AutogradContext * ctx, const torch::Tensor & x,
                                 const torch::Tensor & cos, const torch::Tensor & sin, bool neox) {
        ctx->save_for_backward({cos, sin});
        ctx->saved_data["neox"] = neox;
        return rotate(x, cos, sin, neox, 1.0f);
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext * ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto s = ctx->get_saved_variables();
        return {rotate(grads[0], s[0], s[1], ctx->saved_data["neox"].toBool(), -1.0f), torch::Tensor(), torch::Tensor(),
                torch::Tensor()};
    }
};

}  // namespace

torch::Tensor rms_norm(const torch::Tensor & x, const torch::Tensor & w, double eps) {
    if (fused(x) && fused(w)) return RmsNormFn::apply(x, w, eps);
    return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

torch::Tensor apply_rope(const torch::Tensor & x, const torch::Tensor & cos, const torch::Tensor & sin, bool neox) {
    // cos/sin [B, T, 1, hd/2] as one row of angles per (b, t); anything else takes the composed ops.
    const bool tables = cos.dim() == 4 && cos.size(0) == x.size(0) && cos.size(1) == x.size(1) && cos.size(2) == 1 &&
                        cos.size(3) * 2 == x.size(3) && sin.sizes() == cos.sizes();
    if (fused(x) && fused(cos) && fused(sin) && tables && !cos.requires_grad() && !sin.requires_grad())
        return RopeFn::apply(x, cos, sin, neox);
    if (neox) {  // pairs (x[i], x[i + hd/2])
        auto halves = x.chunk(2, -1);  // 2 x [B, T, H, hd/2]
        const auto & x0 = halves[0];
        const auto & x1 = halves[1];
        return torch::cat({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1);
    }
    const auto sizes = x.sizes().vec();                        // [B, T, H, hd]
    auto       pairs = x.view({sizes[0], sizes[1], sizes[2], sizes[3] / 2, 2});
    auto       x0    = pairs.select(-1, 0);                    // [B, T, H, hd/2]
    auto       x1    = pairs.select(-1, 1);
    auto       out   = torch::stack({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1);  // [B, T, H, hd/2, 2]
    return out.view(sizes);
}

}  // namespace grm::model
