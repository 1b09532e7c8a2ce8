// Language-model trainer: AdamW, linear warmup + cosine decay, gradient clipping and accumulation,
// prompt-masked next-token loss over packed batches, checkpoints that resume bit-identically.
#pragma once

#include "core/error.h"
#include "model/checkpoint.h"
#include "model/dataset.h"
#include "model/dist.h"
#include "model/transformer.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

namespace grm::model {

struct TrainOptions {
    int64_t  steps        = 1000;  // optimizer steps of the whole schedule
    int64_t  batch        = 16;    // rows per micro-batch
    int64_t  seq          = 256;   // positions per row
    int64_t  accum        = 1;     // micro-batches per optimizer step
    double   lr           = 1e-3;  // peak learning rate
    double   min_lr_ratio = 0.1;   // cosine decays to lr * min_lr_ratio
    int64_t  warmup       = 100;   // linear warmup steps
    double   weight_decay = 0.1;   // on matrices only (not norms, not biases)
    double   beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
    double   clip         = 1.0;   // max global grad norm; <= 0 disables
    uint64_t seed         = 0;     // weights and data order
    std::vector<Emphasis> emphasis;  // loss weights for matching completion text (none: all 1)
};

nlohmann::json       train_options_to_json(const TrainOptions & o);
Result<TrainOptions> train_options_from_json(const nlohmann::json & j);

// --init: a checkpoint's weights into `net`, whose config may differ from the checkpoint's in n_ctx
// (the rotary tables are the new model's) and in n_vocab grown by pieces appended to the vocab
// (token_embd rows [0, old n_vocab) are copied; the new rows keep net's initialisation). Any other
// difference is an error naming the field. A LoRA checkpoint gives its merged weights; net's own
// adapters, if any, are left as they are.
Status init_from_checkpoint(const std::string & dir, Transformer & net);

// Learning rate for optimizer step `step` (0-based): warmup (step+1)/warmup * lr, then cosine to
// lr * min_lr_ratio at the last step.
double lr_at(const TrainOptions & o, int64_t step);

// The optimizer pieces, shared with the RM and RL trainers.
// AdamW with two groups: decay for parameters of rank >= 2, none for the rest; only parameters
// that require gradients (a LoRA model's adapters, and a scalar head).
std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module & model, const TrainOptions & o);
void                                 set_lr(torch::optim::Optimizer & opt, double lr);

// Next-token cross-entropy of every position of a batch, [B*T], on the model's device.
torch::Tensor token_ce(TransformerImpl & model, const Batch & batch);
// Its sum weighted by the loss mask: loss = sum / trained targets over all micro-batches of a step.
torch::Tensor masked_ce_sum(TransformerImpl & model, const Batch & batch);

struct StepStats {
    int64_t step      = 0;    // steps done after this one
    double  loss      = 0.0;  // mean per trained token, unweighted (comparable with and without --emphasis)
    double  lr        = 0.0;
    double  grad_norm = 0.0;  // before clipping
    int64_t targets   = 0;    // trained tokens this step
    int64_t real      = 0;    // non-padding positions this step
    int64_t positions = 0;    // all positions (real / positions = packing fill)
    double  seconds   = 0.0;
};

class LmTrainer {
  public:
    LmTrainer(Transformer model, std::shared_ptr<PackedDataset> data, TrainOptions opts);

    // One optimizer step. Distributed (set_dist), each rank forwards its contiguous share of every
    // micro-batch's rows and the summed gradients make the step one process would take on the
    // whole batch; fails only when a collective does (a rank died or timed out).
    Result<StepStats> try_step();
    StepStats         step();  // single process: try_step, which cannot fail there

    // Joins a data-parallel job: rank 0's weights are copied to every rank. Before restore is
    // fine (restore loads the same checkpoint on every rank).
    Status set_dist(std::shared_ptr<Dist> dist);
    const std::shared_ptr<Dist> & dist() const { return dist_; }

    // Writes a checkpoint dir with everything resume needs.
    Status save(const std::string & dir);
    // Restores model, optimizer, RNG, step and data position; the data must be the same
    // (fingerprint), and the model's config must equal the checkpoint's.
    Status restore(const std::string & dir, uint64_t data_fingerprint);

    int64_t               steps_done() const { return step_; }
    int64_t               tokens_seen() const { return tokens_seen_; }
    const TrainOptions &  options() const { return opts_; }
    Transformer &         model() { return model_; }
    torch::optim::AdamW & optimizer() { return *opt_; }
    void                  set_data_fingerprint(uint64_t f) { fingerprint_ = f; }

  private:
    Transformer                          model_;
    std::shared_ptr<PackedDataset>       data_;
    TrainOptions                         opts_;
    std::unique_ptr<torch::optim::AdamW> opt_;
    DataPosition                         pos_;
    int64_t                              step_        = 0;
    int64_t                              tokens_seen_ = 0;
    uint64_t                             fingerprint_ = 0;
    std::shared_ptr<Dist>                dist_;
};

// The rows [first, last) of a batch (a rank's share).
Batch batch_rows(const Batch & b, int64_t first, int64_t last);

struct RunOptions {
    std::string out_dir;            // run dir: step-NNNNNNN checkpoints, latest, log.jsonl
    int64_t     save_every = 0;     // steps between checkpoints (0: only at the end)
    int64_t     keep       = 2;     // checkpoints kept
    bool        progress   = true;  // bar on stderr
    std::shared_ptr<Dist> dist;     // set: only rank 0 logs and checkpoints; every rank steps
};

// What one step of any trainer reports to run_loop.
struct LoopStep {
    nlohmann::json log;               // the step's line in log.jsonl
    int64_t        step = 0;
    double         loss = 0.0;
    double         tokens_per_s = 0;  // shown on the progress bar (0: not shown)
};

// The loop every trainer shares (LM, GRPO, scalar RM): step from `done` until `total`, one JSON
// line per step in <out_dir>/log.jsonl, a checkpoint <out_dir>/step-NNNNNNN every save_every steps
// and at the end (then `latest` points at it and only the newest `keep` stay; after_save runs),
// and a stop with an error on a non-finite loss. Distributed, rank 0 alone writes, and every rank
// waits at a barrier after each checkpoint, so a resume finds it complete whichever rank stopped.
Status run_loop(const RunOptions & run, int64_t done, int64_t total, const std::function<Result<LoopStep>()> & step,
                const std::function<Status(const std::string & dir)> & save,
                const std::function<Status()> & after_save = nullptr);

// run_loop over an LmTrainer until opts.steps; returns the last step's stats.
Result<StepStats> run_training(LmTrainer & trainer, const RunOptions & run);

}  // namespace grm::model
