// The rule-based reward of SPCT stage 2 (and the meta-RM label): +1 for a trajectory that is correct
// by Eq. 10 after unshuffling, -1 for a wrong or unscorable one; no format reward.
#pragma once

#include "core/parse.h"
#include "core/sample.h"

#include <string>
#include <vector>

namespace grm::scaling {

struct RuleReward {
    double     reward  = -1.0;
    bool       correct = false;
    Unscorable reason  = Unscorable::none;  // why an unscorable trajectory got -1
};

// order[p] = original index shown at position p (as from grm::shuffle_order); stopped = the
// generation ended on its stop token (else it was cut by the length limit). binary: a 0/1 judgment
// of one response (JudgeParams::binary_single), checked against s.label.
RuleReward rule_reward(const Sample & s, const std::vector<int> & order, const std::string & text, bool stopped,
                       bool binary = false);

}  // namespace grm::scaling
