// GRPO loss.
#include "rl/grpo_loss.h"

#include <algorithm>
#include <cassert>
#include <cmath>

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

std::vector<double> group_advantages(const std::vector<double> & rewards, int group) {
    assert(group > 0 && rewards.size() % size_t(group) == 0);
    std::vector<double> adv(rewards.size(), 0.0);
    for (size_t g = 0; g < rewards.size(); g += size_t(group)) {
        double mean = 0.0;
        for (int i = 0; i < group; ++i) mean += rewards[g + i];
        mean /= group;
        double var = 0.0;
        for (int i = 0; i < group; ++i) var += (rewards[g + i] - mean) * (rewards[g + i] - mean);
        const double sd = std::sqrt(var / group);
        // Discrete rewards: a uniform group has sd exactly 0; tiny sd only from rounding.
        if (sd < 1e-12) continue;
        for (int i = 0; i < group; ++i) adv[g + i] = (rewards[g + i] - mean) / sd;
    }
    return adv;
}

}  // namespace grm::rl
