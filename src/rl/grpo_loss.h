// The GRPO objective on completion tokens: clipped-ratio policy gradient plus beta * KL(policy ||
// reference) with the k3 estimator. Tensors only; no model, no data.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace grm::rl {

struct GrpoLossParams {
    double clip_eps = 0.2;   // ratio clipped to [1 - eps, 1 + eps]
    double beta     = 0.08;  // KL coefficient (the paper: 0.08 at 27B, 0.002 at 16B; too small collapses the format)
};

struct GrpoLoss {
    torch::Tensor loss;       // scalar, carries grad
    double        kl        = 0.0;  // mean per-token k3 KL (masked)
    double        clip_frac = 0.0;  // share of tokens where the clipped term was taken
};

// logp, logp_old, logp_ref, mask: [B, C] (logp carries grad; 0 where mask is 0); adv: [B].
// Per token: ratio = exp(logp - logp_old); pg = -min(ratio * A, clip(ratio) * A);
// kl = exp(ref - logp) - (ref - logp) - 1 (k3, >= 0, unbiased for KL(pi || ref)).
// The loss averages (pg + beta * kl) over each sequence's tokens, then over sequences (GRPO's
// per-sequence normalisation: long and short completions weigh the same).
GrpoLoss grpo_loss(const torch::Tensor & logp, const torch::Tensor & logp_old, const torch::Tensor & logp_ref,
                   const torch::Tensor & mask, const torch::Tensor & adv, const GrpoLossParams & p);

// Group-relative advantages (GRPO): rewards are laid out as consecutive groups of `group`;
// A_i = (r_i - mean_g) / std_g with the population std. A group whose rewards are all equal gives 0
// (no signal), never a division by zero.
std::vector<double> group_advantages(const std::vector<double> & rewards, int group);

}  // namespace grm::rl
