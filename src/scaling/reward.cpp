// The rule reward: parse, unshuffle, Eq. 10.
#include "scaling/reward.h"

#include "core/vote.h"


namespace grm::scaling {

RuleReward rule_reward(const Sample & s, const std::vector<int> & order, const std::string & text, bool stopped, bool binary) {
    RuleReward r;
    const ParsedJudgment p = parse_judgment(text, s.n(), stopped ? FinishReason::stop : FinishReason::length, false, binary);
    r.reason               = p.reason;
    if (!p.ok()) return r;
    r.correct = is_correct(unshuffle_scores(p.scores, order), s, binary);
    r.reward  = r.correct ? 1.0 : -1.0;
    return r;
}

}  // namespace grm::scaling
