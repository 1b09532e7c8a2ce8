// The judging pipeline: sample -> k shuffled prompts -> engine -> parse -> (meta score) -> vote.
#pragma once

#include "core/engine.h"
#include "core/parse.h"
#include "core/prompt.h"
#include "core/sample.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grm {

struct Trajectory;

// Rates sampled trajectories (the meta RM plugs in here); higher = more likely correct.
class MetaScorer {
  public:
    virtual ~MetaScorer() = default;
    virtual Result<std::vector<double>> score(const Sample & s, const std::vector<Trajectory> & ts) = 0;
};

struct JudgeParams {
    int                k           = 1;
    uint64_t           seed        = 0;
    bool               shuffle     = true;
    int                k_meta      = 0;      // with a meta scorer: keep the top k_meta trajectories (0 = k/2, at least 1)
    bool               chat        = true;
    bool               clip_scores = false;  // out-of-range integers to 1..10 (the model card's code), not unscorable
    bool               binary_single = false;  // one response: the template's 0/1 variant, scores 0..1, checked against `label`
    SamplingParams     sampling;             // sampling.seed is ignored: sample i of input `id` uses stream_seed(seed, engine_sample, id, i)
    PromptTemplate     prompt = default_template();
    std::optional<int> hint_best;            // hinted sampling: tell the model which original index is best
};

struct Trajectory {
    std::vector<int>      order;   // order[p] = original index shown at position p
    Generation            generation;
    ParsedJudgment        parsed;  // parsed.scores are in shown order
    std::vector<int>      scores;  // original order; empty when unscorable
    std::optional<double> meta_score;
    bool                  voted = false;
};

struct Judgment {
    std::vector<Trajectory>    samples;
    std::vector<double>        rewards;  // per response (original order): sum of voted valid scores
    int                        n_valid = 0;
    int                        n_voted = 0;
    std::map<std::string, int> unscorable;  // reason -> count
    std::optional<int>         best;        // strict argmax of rewards (nullopt: tie or nothing valid)
};

// Judges several samples; their k generations go to the engine as one batch. One result per
// sample; a request-level failure (e.g. context overflow) fails that sample only.
// cancel: empty, or one flag per sample (a cancelled sample fails with Errc::cancelled).
std::vector<Result<Judgment>> judge_batch(Engine & engine, const std::vector<Sample> & samples,
                                          const JudgeParams & params, MetaScorer * meta = nullptr,
                                          const std::vector<CancelFlag> & cancel = {});

// Recomputes rewards/best/n_voted from trajectories[0..k) (used by eval to get voting@k for every
// k from one set of samples, and after meta scoring).
void vote(Judgment & j, int k, int k_meta, bool use_meta);

}  // namespace grm
