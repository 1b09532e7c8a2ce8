// Rule reward and group advantages.
#include "scaling/reward.h"

#include "core/vote.h"


namespace grm::scaling {

RuleReward rule_reward(const Sample & s, const std::vector<int> & order, const std::string & text, bool stopped) {
    RuleReward r;
    const ParsedJudgment p = parse_judgment(text, s.n(), stopped ? FinishReason::stop : FinishReason::length);
    r.reason               = p.reason;
    if (!p.ok()) return r;
    r.correct = is_correct(unshuffle_scores(p.scores, order), s);
    r.reward  = r.correct ? 1.0 : -1.0;
    return r;
}

}  // namespace grm::scaling
