// GRPO loss.
#include "rl/grpo_loss.h"

#include <algorithm>

namespace grm::rl {

GrpoLoss grpo_loss(const torch::Tensor & logp, const torch::Tensor & logp_old, const torch::Tensor & logp_ref,
                   const torch::Tensor & mask, const torch::Tensor & adv, const GrpoLossParams & p) {
    auto a       = adv.to(logp.dtype()).unsqueeze(1);                                      // [B, 1]
    auto ratio   = torch::exp(logp - logp_old);                                            // [B, C]
    auto un      = ratio * a;
    auto clipped = torch::clamp(ratio, 1.0 - p.clip_eps, 1.0 + p.clip_eps) * a;
    auto pg      = -torch::min(un, clipped);                                               // [B, C]
    auto d       = logp_ref - logp;
    auto kl      = torch::exp(d) - d - 1.0;                                                // [B, C]
    auto per_tok = (pg + p.beta * kl) * mask;
    auto len     = mask.sum(1).clamp_min(1.0);                                             // [B]
    GrpoLoss out;
    out.loss = (per_tok.sum(1) / len).mean();
    torch::NoGradGuard ng;
    const double n = std::max(1.0, mask.sum().item<double>());
    out.kl         = (kl * mask).sum().item<double>() / n;
    out.clip_frac  = ((clipped < un).to(mask.dtype()) * mask).sum().item<double>() / n;
    return out;
}

}  // namespace grm::rl
