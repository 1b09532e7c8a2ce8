// A scalar RM (meta RM or Bradley-Terry) run through llama.cpp: the GGUF backbone's hidden state of
// the last token after the final norm (what a HF sequence classifier reads) times the sidecar
// head. No libtorch at inference.
#pragma once

#include "core/judge.h"
#include "core/prompt.h"
#include "llama/llama_model.h"
#include "scaling/scalar_head.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct llama_context;

namespace grm::scaling {

class LlamaScalarRm {
  public:
    // Loads <path> and <path>.head.json. n_threads <= 0: llama.cpp's default.
    static Result<std::unique_ptr<LlamaScalarRm>> load(const std::string & path, int n_threads = 1);
    ~LlamaScalarRm();
    LlamaScalarRm(const LlamaScalarRm &)             = delete;
    LlamaScalarRm & operator=(const LlamaScalarRm &) = delete;

    // One score per text (tokenize() below).
    Result<std::vector<double>> score_texts(const std::vector<std::string> & texts);
    // The ids a text is scored from: BOS (when the vocab adds one) + the text, fit to the context
    // keeping the tail; control tokens ("<start_of_turn>") are parsed for a chat-layout head only.
    std::vector<int32_t> tokenize(const std::string & text) const;
    const ScalarHead &   head() const { return head_; }
    const LlamaModel &   model() const { return *model_; }

  private:
    LlamaScalarRm() = default;
    std::shared_ptr<LlamaModel> model_;
    llama_context *             ctx_ = nullptr;
    ScalarHead                  head_;
    int                         n_ctx_ = 0;
};

// grm::MetaScorer over a LlamaScalarRm: scores each trajectory's text(). Unscorable trajectories
// are scored too (vote() ignores them anyway).
class LlamaMetaScorer : public MetaScorer {
  public:
    explicit LlamaMetaScorer(std::unique_ptr<LlamaScalarRm> rm);
    static Result<std::unique_ptr<LlamaMetaScorer>> load(const std::string & path, int n_threads = 1);
    Result<std::vector<double>> score(const Sample & s, const std::vector<Trajectory> & ts) override;
    // What the RM reads for one trajectory: meta_rm_text, or with a chat-layout head the head's
    // template rendered in the trajectory's shown order as the user turn and the trajectory as the
    // assistant turn, through the GGUF's chat template (an error when the GGUF has none).
    Result<std::string> text(const Sample & s, const Trajectory & t) const;

  private:
    std::unique_ptr<LlamaScalarRm> rm_;
    std::optional<PromptTemplate>  chat_prompt_;  // the head's template, chat layout only
};

}  // namespace grm::scaling
