// GRPO (SPCT stage 2) as separate stages with plain structs between them: rollout -> reward ->
// group advantage -> loss; a trainer that runs them per step with checkpoints that resume
// bit-identically, and the filter of inputs the reference model always gets right.
#pragma once

#include "core/error.h"
#include "core/prompt.h"
#include "core/sample.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "llama/llama_model.h"
#include "model/trainer.h"
#include "model/transformer.h"
#include "rl/grpo_loss.h"
#include "scaling/reward.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace grm::rl {

// Rollouts (GRPO, the always-right filter, meta-RM policy samples) sample the policy's own
// distribution: T = 1 without nucleus, as the policy gradient assumes, and at most 256 new tokens;
// everything else as grm::SamplingParams.
inline SamplingParams rollout_sampling() {
    SamplingParams s;
    s.temperature = 1.0f;
    s.max_tokens  = 256;
    return s;
}

// Defaults are the paper's (spct.md: group 4, lr 4e-7, 512 rollouts per step, 900 steps, a large
// KL coefficient); a small CPU model needs a higher lr and smaller batches, set by the recipe.
struct GrpoOptions {
    int      group           = 4;     // rollouts per input (G)
    int      inputs_per_step = 128;   // inputs per step (128 * 4 = 512 rollouts)
    int64_t  steps           = 900;
    double   lr              = 4e-7;
    int64_t  warmup          = 0;
    double   min_lr_ratio    = 1.0;   // constant lr after warmup by default
    double   weight_decay    = 0.0;
    double   clip            = 1.0;   // max grad norm; <= 0 disables
    int      epochs          = 1;     // optimizer passes over one step's rollouts (mu)
    int      micro_batch     = 16;    // rollouts per forward/backward (memory only; the loss is the same)
    SamplingParams sampling  = rollout_sampling();  // .seed unused: rollouts derive theirs from `seed`
    GrpoLossParams loss;
    uint64_t seed            = 0;     // input order, shuffles and sampling
    // The judging prompt (default_template(false) for the no-principles ablation); stored in the
    // checkpoint's options so a resumed run samples with the same one.
    PromptTemplate prompt = default_template();
};

nlohmann::json      grpo_options_to_json(const GrpoOptions & o);
Result<GrpoOptions> grpo_options_from_json(const nlohmann::json & j);

struct Rollout {
    int                  input = 0;   // index into the trainer's inputs
    std::vector<int>     order;       // shown order (grm::shuffle_order)
    std::vector<int32_t> prompt;      // BOS + ChatML prompt tokens
    std::vector<int32_t> completion;  // sampled tokens, the stop token included when hit
    std::string          text;        // completion without the stop token
    bool                 stopped = false;
    scaling::RuleReward  reward;
};

// Reward stage; the default is scaling::rule_reward. Pluggable so tests can use a reward a random
// model earns.
using RewardFn = std::function<scaling::RuleReward(const Sample &, const Rollout &)>;
scaling::RuleReward default_reward(const Sample & s, const Rollout & r);

struct RolloutParams {
    int            group    = 4;
    SamplingParams sampling = rollout_sampling();  // sampling.seed: shuffles and sampling of this call
    PromptTemplate prompt   = default_template();
    // 0: sample with sampling.seed; r > 0 (data-parallel rank r): a sampling stream of its own,
    // the shuffles still derived from sampling.seed
    uint64_t       sample_stream = 0;
};

// Rollout stage: `group` samples for each of inputs[which[i]], each with its own shuffle, in one
// batched generation. Rollouts come grouped: [input 0 x G, input 1 x G, ...]. Rewards are filled.
Result<std::vector<Rollout>> rollout(model::TransformerImpl & policy, const LlamaModel & tok,
                                     const std::vector<Sample> & inputs, const std::vector<int> & which,
                                     const RolloutParams & p, const RewardFn & reward);

// Indices of inputs the reference model does not get right in all `tries` samples (the paper
// filters out the ones it always gets right). Inputs are processed `batch` at a time.
Result<std::vector<int>> filter_always_right(model::TransformerImpl & reference, const LlamaModel & tok,
                                             const std::vector<Sample> & inputs, const RolloutParams & p,
                                             int batch = 16);

struct GrpoStepStats {
    int64_t step            = 0;
    double  loss            = 0.0;
    double  mean_reward     = 0.0;
    double  accuracy        = 0.0;  // share of rollouts correct by Eq. 10
    double  unscorable_rate = 0.0;
    double  kl              = 0.0;  // mean per-token k3 KL to the reference (first epoch)
    double  clip_frac       = 0.0;
    double  mean_length     = 0.0;  // completion tokens
    double  zero_adv_groups = 0.0;  // share of groups with no signal (uniform rewards)
    double  lr              = 0.0;
    double  grad_norm       = 0.0;
    double  seconds         = 0.0;

    nlohmann::json to_json() const;
};

class GrpoTrainer {
  public:
    // policy and reference start from the same weights; the reference is frozen. A LoRA policy
    // (add_lora) may come without one (nullptr): its base, adapters off, is the reference.
    GrpoTrainer(model::Transformer policy, model::Transformer reference, std::shared_ptr<LlamaModel> tok,
                std::vector<Sample> inputs, GrpoOptions opts, RewardFn reward = default_reward);

    // Distributed (set_dist): each rank rolls out its contiguous share of the step's inputs (whole
    // groups, as the advantage is normalised within one) with its own copy of the policy and its
    // own sampling stream (RolloutParams::sample_stream = rank; the shuffles are one process's):
    // rank 0 samples what one process does, the others their own rollouts of the same inputs (greedy
    // rollouts are one process's exactly); the loss weights and stats are the whole step's, the
    // gradients summed over ranks.
    Result<GrpoStepStats> step();
    Status                set_dist(std::shared_ptr<model::Dist> dist);  // rank 0's weights to all
    const std::shared_ptr<model::Dist> & dist() const { return dist_; }
    Status                save(const std::string & dir);
    Status                restore(const std::string & dir);  // same inputs (fingerprint), same config

    int64_t               steps_done() const { return step_; }
    const GrpoOptions &   options() const { return opts_; }
    model::Transformer &  policy() { return policy_; }
    uint64_t              fingerprint() const { return fingerprint_; }

  private:
    std::vector<int> next_inputs();

    model::Transformer                    policy_, reference_;
    std::shared_ptr<LlamaModel>     tok_;
    std::vector<Sample>                   inputs_;
    GrpoOptions                           opts_;
    RewardFn                              reward_;
    std::unique_ptr<torch::optim::AdamW>  opt_;
    int64_t                               step_        = 0;
    int64_t                               cursor_      = 0;  // inputs consumed (over epochs)
    uint64_t                              fingerprint_ = 0;
    std::shared_ptr<model::Dist>          dist_;
};

struct GrpoRunOptions {
    std::string out_dir;          // step-NNNNNNN checkpoints, latest, log.jsonl, plot.svg
    int64_t     save_every = 10;
    int64_t     keep       = 2;
    bool        progress   = true;
};

// Steps until opts.steps: one JSON line per step in <out_dir>/log.jsonl, checkpoints, and the
// plot of the log redrawn at each checkpoint.
Result<GrpoStepStats> run_grpo(GrpoTrainer & trainer, const GrpoRunOptions & run);

// An SVG with one panel per series (mean reward, accuracy, KL, length, unscorable rate) against step.
Status plot_grpo_log(const std::string & log_jsonl, const std::string & svg_path);

}  // namespace grm::rl
