// Adaptive voting: stop sampling trajectories once the leading response can no longer be overtaken
// by the samples still to come (exact, since every score is 1..10), or once a stated confidence is
// reached. A pure function over a stream of parsed samples, plus a judging loop over an engine.
#pragma once

#include "core/engine.h"
#include "core/judge.h"

#include <optional>
#include <vector>

namespace grm::scaling {

struct AdaptiveVoteParams {
    int    max_k      = 32;   // the fixed-voting budget being approximated
    // 0 disables the confidence rule. Otherwise stop once at least min_k samples are valid and the
    // share of valid samples whose own strict best is the current leader reaches `confidence`.
    double confidence = 0.0;
    int    min_k      = 4;
};

// Why a stream stopped.
enum class StopRule { budget, bound, confidence };
const char * stop_rule_name(StopRule r);

struct AdaptiveVoteResult {
    int                 used = 0;       // samples consumed from the stream
    std::vector<double> rewards;        // per response: sum of the used valid scores
    std::optional<int>  best;           // strict argmax of rewards
    StopRule            rule = StopRule::budget;
};

// Exact bound: with `remaining` samples still to come, each valid sample adds 1..10 to every
// response and an unscorable one adds nothing, so a rival j can gain at most 9 per sample on the
// leader L. The leader is safe (no rival can reach a tie) iff R_L - R_j > 9 * remaining for all j.
bool leader_is_safe(const std::vector<double> & rewards, int remaining);

// scores[i]: sample i's scores in original order, empty when unscorable. Consumes samples in order
// until a stop rule holds or max_k (or the stream) is exhausted.
AdaptiveVoteResult adaptive_vote(const std::vector<std::vector<int>> & scores, int n, const AdaptiveVoteParams & p);

// Judges one sample by drawing trajectories in chunks of `chunk` through judge_batch (chunk c uses
// the seed stream_seed(params.seed, adaptive_chunk, 0, c), so the draws differ from one fixed
// k = max_k call and from other chunks and seeds) until adaptive_vote
// stops. The judgment holds the used trajectories, voted; `used` in the result says how many.
struct AdaptiveJudgment {
    Judgment           judgment;
    AdaptiveVoteResult vote;
};
Result<AdaptiveJudgment> adaptive_judge(Engine & engine, const Sample & s, const JudgeParams & params,
                                        const AdaptiveVoteParams & p, int chunk = 4);

}  // namespace grm::scaling
