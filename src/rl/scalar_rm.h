// Scalar reward models on the GRM's backbone: the meta RM (binary cross-entropy on "is this
// trajectory correct") and the Bradley-Terry baseline (-log sigmoid(r_chosen - r_rejected) on
// pairwise preferences). One trainer with resumable checkpoints, and export to GGUF + head sidecar.
#pragma once

#include "core/error.h"
#include "core/sample.h"
#include "model/checkpoint.h"
#include "llama/llama_model.h"
#include "model/trainer.h"
#include "model/transformer.h"
#include "scaling/label_balance.h"
#include "scaling/scalar_head.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace grm::rl {

// Loss pieces, checked against the PyTorch reference. scores/labels/r_*: [B].
torch::Tensor bce_loss(const torch::Tensor & scores, const torch::Tensor & labels);  // mean BCE with logits
torch::Tensor bt_loss(const torch::Tensor & r_chosen, const torch::Tensor & r_rejected);  // mean -log sigmoid(rc - rr)

// One meta-RM example: meta_rm_text tokens and whether the trajectory is correct (Eq. 10).
struct MetaExample {
    std::vector<int32_t> tokens;
    float                label = 0.0f;
    std::string          source;  // who wrote the trajectory ("teacher", "policy")
};

// scaling::balance_by_source over the examples, keeping their order.
std::vector<scaling::SourceBalance> balance_labels_by_source(std::vector<MetaExample> & data, uint64_t seed);
// One preference: bt_rm_text tokens of the best response and of another one.
struct PairExample {
    std::vector<int32_t> chosen, rejected;
};

// Pairs "best vs each other response" for every sample with a known best.
std::vector<PairExample> bt_pairs(const std::vector<Sample> & samples, const LlamaModel & tok, int n_ctx);

enum class ScalarRmKind { meta, bt };
const char * scalar_rm_kind_name(ScalarRmKind k);

// scores [B] for token rows (right-padded in one forward; each row fit to n_ctx keeping its tail).
torch::Tensor score_rows(model::ScalarHeadModelImpl & m, const std::vector<std::vector<int32_t>> & rows);

struct ScalarRmStepStats {
    int64_t step = 0;
    double  loss = 0.0, accuracy = 0.0, lr = 0.0, grad_norm = 0.0, seconds = 0.0;
};

// batch = examples (meta) or pairs (bt) per step; the data order is a seeded permutation per
// epoch, a function of the step count only, so a resumed run continues it exactly.
class ScalarRmTrainer {
  public:
    ScalarRmTrainer(model::ScalarHeadModel m, std::vector<MetaExample> data, model::TrainOptions o);
    ScalarRmTrainer(model::ScalarHeadModel m, std::vector<PairExample> data, model::TrainOptions o);

    // Distributed (set_dist), each rank scores its contiguous share of the step's batch and the
    // summed gradients are the whole batch's; fails only when a collective does.
    Result<ScalarRmStepStats> try_step();
    ScalarRmStepStats         step();  // single process: try_step, which cannot fail there
    Status                    set_dist(std::shared_ptr<model::Dist> dist);  // rank 0's weights to all
    Status            save(const std::string & dir);
    Status            restore(const std::string & dir);

    ScalarRmKind             kind() const { return kind_; }
    int64_t                  steps_done() const { return step_; }
    const model::TrainOptions & options() const { return opts_; }
    model::ScalarHeadModel & model() { return model_; }

  private:
    std::vector<size_t> next_batch();

    model::ScalarHeadModel               model_;
    ScalarRmKind                         kind_;
    std::vector<MetaExample>             meta_;
    std::vector<PairExample>             pairs_;
    model::TrainOptions                  opts_;
    std::unique_ptr<torch::optim::AdamW> opt_;
    int64_t                              step_ = 0;
    uint64_t                             fingerprint_ = 0;
    std::shared_ptr<model::Dist>         dist_;
};

// Steps until options().steps with log.jsonl and step-NNNNNNN checkpoints in out_dir (run.dist:
// the trainer's set_dist is called with it).
Result<ScalarRmStepStats> run_scalar_rm(ScalarRmTrainer & t, const model::RunOptions & run);

// One scalar-RM run as `grm meta train` and `grm bt train` do it: the backbone starts from the LM
// checkpoint init_dir, trains (resuming from resume_dir when set), and is exported with its head.
struct ScalarRmJob {
    std::string       init_dir;
    std::string       resume_dir;  // empty: a fresh run
    std::string       vocab_path;
    std::string       export_path;
    model::RunOptions run;  // run.dist set: data parallel, rank 0 exports
    model::LoraParams lora;  // rank > 0: adapters on the backbone (base frozen), merged on export
};
Result<ScalarRmStepStats> train_and_export_scalar_rm(const LlamaConfig & cfg, std::vector<MetaExample> data,
                                                     const model::TrainOptions & opts, const ScalarRmJob & job);
Result<ScalarRmStepStats> train_and_export_scalar_rm(const LlamaConfig & cfg, std::vector<PairExample> data,
                                                     const model::TrainOptions & opts, const ScalarRmJob & job);


// Writes the backbone as a GGUF (no LM head; llama.cpp ties the output to token_embd, unused with
// embeddings) and the head as <path>.head.json.
Status export_scalar_rm(model::ScalarHeadModelImpl & m, const Vocab & vocab, const std::string & path,
                        ScalarRmKind kind, GgufType type = GgufType::f32);

}  // namespace grm::rl
