// Rule reward and group advantages.
#include "scaling/reward.h"

#include "core/vote.h"

#include <cassert>
#include <cmath>

namespace grm::rl {

RuleReward rule_reward(const Sample & s, const std::vector<int> & order, const std::string & text, bool stopped) {
    RuleReward r;
    const ParsedJudgment p = parse_judgment(text, s.n(), stopped ? FinishReason::stop : FinishReason::length);
    r.reason               = p.reason;
    if (!p.ok()) return r;
    r.correct = is_correct(unshuffle_scores(p.scores, order), s);
    r.reward  = r.correct ? 1.0 : -1.0;
    return r;
}

std::vector<double> group_advantages(const std::vector<double> & rewards, int group) {
    assert(group > 0 && rewards.size() % size_t(group) == 0);
    std::vector<double> adv(rewards.size(), 0.0);
    for (size_t g = 0; g < rewards.size(); g += size_t(group)) {
        double mean = 0.0;
        for (int i = 0; i < group; ++i) mean += rewards[g + i];
        mean /= group;
        double var = 0.0;
        for (int i = 0; i < group; ++i) var += (rewards[g + i] - mean) * (rewards[g + i] - mean);
        const double sd = std::sqrt(var / group);
        // Discrete rewards: a uniform group has sd exactly 0; tiny sd only from rounding.
        if (sd < 1e-12) continue;
        for (int i = 0; i < group; ++i) adv[g + i] = (rewards[g + i] - mean) / sd;
    }
    return adv;
}

}  // namespace grm::rl
