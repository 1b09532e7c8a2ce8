// Training data: tokenized examples (plain text or prompt + completion) packed into fixed-length
// rows with per-document attention, positions and loss masks, in a seeded, resumable order.
#pragma once

#include "core/error.h"
#include "llama/llama_model.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace grm::model {

// tokens[0] is usually BOS. Targets are tokens[1..]; target j (predicting tokens[j]) counts toward
// the loss only when j >= n_prompt, so a prompt's tokens are context, never trained on.
struct Example {
    std::vector<int32_t> tokens;
    int32_t              n_prompt = 0;
    std::vector<float>   weight;  // empty, or per token: weight[j] scales the loss of target j
};

// A loss weight for the completion tokens that overlap a match of `regex` (ECMAScript) in the
// completion text: grm train --emphasis. Decisions that are a few tokens of a long trajectory
// (a verdict, a score) otherwise get a few tokens' share of the gradient.
struct Emphasis {
    std::string regex;
    float       weight = 1.0f;
};

struct TokenizeStats {
    int64_t examples         = 0;
    int64_t tokens           = 0;
    int64_t boundary_retoken = 0;  // prompt tokens were not a prefix of prompt+completion's tokens
    int64_t emphasized       = 0;  // completion tokens given an --emphasis weight
    int64_t unaligned        = 0;  // completions whose token pieces do not spell them (no emphasis)
};

// One example from JSON {"prompt", "completion"} or {"text"}: BOS + prompt (+ completion) + EOS.
// The completion's ids are those of tokenize(prompt + completion) after the prompt's ids, which is
// what the model sees when it continues the prompt; if the prompt's ids are not a prefix there,
// the completion is tokenized on its own (counted in stats).
Example tokenize_example(const LlamaModel & tok, const std::string & prompt, const std::string & completion,
                         TokenizeStats * stats = nullptr);

// Sets ex.weight from the rules (the largest weight of the matches a token overlaps; 1 elsewhere)
// when its completion tokens' pieces spell `completion` exactly; otherwise counts it unaligned.
// An invalid regex is an error naming it.
Status apply_emphasis(Example & ex, const LlamaModel & tok, const std::string & completion,
                      const std::vector<Emphasis> & rules, TokenizeStats * stats = nullptr);

// .jsonl: one {"prompt","completion"} or {"text"} object per line; `emphasis` weights parts of
// the completions. Other files: plain text, each non-empty line one document.
Result<std::vector<Example>> load_examples(const std::string & path, const LlamaModel & tok, TokenizeStats * stats = nullptr,
                                           const std::vector<Emphasis> & emphasis = {});

// FNV-1a over all tokens, prompt lengths and weights: recorded in checkpoints so a resume on other
// data fails.
uint64_t examples_fingerprint(const std::vector<Example> & examples);

struct DataPosition {
    int64_t epoch = 0;
    int64_t batch = 0;  // index of the next batch within the epoch
};

// Tensors on the CPU; B rows of T positions.
struct Batch {
    torch::Tensor tokens;     // [B, T] int64 input ids (0 on padding)
    torch::Tensor targets;    // [B, T] int64 next-token ids
    torch::Tensor loss_mask;  // [B, T] float: the target's weight (1, or its --emphasis), 0 if untrained
    torch::Tensor positions;  // [B, T] int64, restarting at 0 for each packed document
    torch::Tensor doc;        // [B, T] int64 document id within the row, -1 on padding
    int64_t       n_targets = 0;  // trained targets (loss_mask > 0)
    int64_t       n_real    = 0;  // non-padding positions
};

// Rows of `seq` positions hold whole documents (first-fit in a seeded order per epoch); longer
// examples are cut into windows of `seq` tokens overlapping by one, so every target is trained
// once. Each epoch's order depends only on (examples, seq, seed, epoch): resuming at a
// DataPosition gives the same batches.
class PackedDataset {
  public:
    PackedDataset(std::vector<Example> examples, int64_t rows_per_batch, int64_t seq, uint64_t seed);

    // The batch at pos; advances pos (to the next epoch after the last batch).
    Batch next(DataPosition & pos);

    int64_t batches_in_epoch(int64_t epoch);
    int64_t seq() const { return seq_; }
    int64_t rows_per_batch() const { return rows_per_batch_; }
    int64_t units() const { return int64_t(units_.size()); }

  private:
    struct Unit {
        int64_t example;
        int64_t start;   // first token of the window
        int64_t length;  // tokens in the window, <= seq
    };
    void ensure_epoch(int64_t epoch);

    std::vector<Example>           examples_;
    std::vector<Unit>              units_;
    int64_t                        rows_per_batch_, seq_;
    uint64_t                       seed_;
    int64_t                        packed_epoch_ = -1;
    std::vector<std::vector<Unit>> rows_;  // rows of packed_epoch_
};

}  // namespace grm::model
