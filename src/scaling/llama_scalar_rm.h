// A scalar RM (meta RM or Bradley-Terry) run through llama.cpp: the GGUF backbone's last-token
// embedding (final norm applied, pooling LAST) times the sidecar head. No libtorch at inference.
#pragma once

#include "core/judge.h"
#include "llama/llama_model.h"
#include "scaling/scalar_head.h"

#include <memory>
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

    // One score per text (BOS + text, fit to the context keeping the tail).
    Result<std::vector<double>> score_texts(const std::vector<std::string> & texts);
    const ScalarHead & head() const { return head_; }

  private:
    LlamaScalarRm() = default;
    std::shared_ptr<LlamaModel> model_;
    llama_context *             ctx_ = nullptr;
    ScalarHead                  head_;
    int                         n_ctx_ = 0;
};

// grm::MetaScorer over a LlamaScalarRm: scores each trajectory's meta_rm_text. Unscorable
// trajectories are scored too (vote() ignores them anyway).
class LlamaMetaScorer : public MetaScorer {
  public:
    explicit LlamaMetaScorer(std::unique_ptr<LlamaScalarRm> rm) : rm_(std::move(rm)) {}
    static Result<std::unique_ptr<LlamaMetaScorer>> load(const std::string & path, int n_threads = 1);
    Result<std::vector<double>> score(const Sample & s, const std::vector<Trajectory> & ts) override;

  private:
    std::unique_ptr<LlamaScalarRm> rm_;
};

}  // namespace grm::scaling
