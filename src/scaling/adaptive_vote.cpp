// Adaptive voting: the stopping rules and the chunked judging loop.
#include "scaling/adaptive_vote.h"

#include "core/seed.h"
#include "core/vote.h"

#include <algorithm>

namespace grm::scaling {

const char * stop_rule_name(StopRule r) {
    switch (r) {
        case StopRule::budget: return "budget";
        case StopRule::bound: return "bound";
        case StopRule::confidence: return "confidence";
    }
    return "?";
}

bool leader_is_safe(const std::vector<double> & rewards, int remaining) {
    const auto lead = strict_argmax(rewards);
    if (!lead) return false;
    for (size_t j = 0; j < rewards.size(); ++j) {
        if (int(j) == *lead) continue;
        if (!(rewards[*lead] - rewards[j] > 9.0 * remaining)) return false;
    }
    return true;
}

AdaptiveVoteResult adaptive_vote(const std::vector<std::vector<int>> & scores, int n, const AdaptiveVoteParams & p) {
    AdaptiveVoteResult r;
    r.rewards.assign(size_t(n), 0.0);
    const int         budget = std::min<int>(p.max_k, int(scores.size()));
    std::vector<int>  wins(size_t(n), 0);  // valid samples whose own strict best is response i
    int               valid = 0;
    for (int i = 0; i < budget; ++i) {
        r.used = i + 1;
        if (int(scores[i].size()) == n) {
            ++valid;
            std::vector<double> own(scores[i].begin(), scores[i].end());
            for (int j = 0; j < n; ++j) r.rewards[j] += own[j];
            if (auto b = strict_argmax(own)) ++wins[*b];
        }
        r.best = strict_argmax(r.rewards);
        if (i + 1 == budget) break;
        // A single response has no rival: the bound would stop after one sample, which is right
        // for its argmax but not for its score (n = 1 is judged against a rating), so only n >= 2.
        if (n >= 2 && leader_is_safe(r.rewards, p.max_k - (i + 1))) {
            r.rule = StopRule::bound;
            return r;
        }
        if (p.confidence > 0.0 && n >= 2 && r.best && valid >= p.min_k &&
            double(wins[*r.best]) >= p.confidence * valid) {
            r.rule = StopRule::confidence;
            return r;
        }
    }
    r.rule = StopRule::budget;
    return r;
}

Result<AdaptiveJudgment> adaptive_judge(Engine & engine, const Sample & s, const JudgeParams & params,
                                        const AdaptiveVoteParams & p, int chunk) {
    AdaptiveJudgment out;
    std::vector<std::vector<int>> stream;
    chunk = std::max(1, chunk);
    for (int c = 0; int(stream.size()) < p.max_k; ++c) {
        JudgeParams jp = params;
        jp.k           = std::min(chunk, p.max_k - int(stream.size()));
        jp.seed        = stream_seed(params.seed, Stream::adaptive_chunk, 0, uint64_t(c));
        auto res       = judge_batch(engine, {s}, jp);
        if (!res[0]) return res[0].error();
        for (auto & t : res[0]->samples) {
            stream.push_back(t.scores);
            out.judgment.samples.push_back(std::move(t));
        }
        out.vote = adaptive_vote(stream, s.n(), p);
        if (out.vote.rule != StopRule::budget || out.vote.used < int(stream.size())) break;
    }
    out.judgment.samples.resize(size_t(out.vote.used));
    vote(out.judgment, out.vote.used, 0, false);
    return out;
}

}  // namespace grm::scaling
