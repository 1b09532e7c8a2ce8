// The ground truth of one shown judging prompt as a small JSON label, so a framework outside grm
// (OpenRLHF, verl, TRL) can carry it beside the prompt and /rule_reward can score a judgment with
// scaling::rule_reward. `grm rl export` writes it; the server reads it.
//
//   {"n": N, "best": p}   N >= 2 responses; p = 0-based *shown* position of the best one
//   {"n": 1, "rating": r} one response; r = its ground-truth rating 1..10 (Eq. 10 for n = 1)
//   {"n": 1, "label": l}  one response judged 0/1 (the template's binary variant); l = 0 or 1
//
// The label is in shown order, so checking needs no shuffle order (the identity).
#pragma once

#include "core/error.h"
#include "core/sample.h"
#include "scaling/reward.h"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace grm::scaling {

struct RuleLabel {
    int                n = 0;
    std::optional<int> best;    // n >= 2
    std::optional<int> rating;  // n == 1
    std::optional<int> label;   // n == 1, a 0/1 judgment
};

// Reads an object, or a string holding one (dataset columns are often strings). Errors
// (Errc::invalid_argument) name the key at fault; max_n bounds n.
Result<RuleLabel> rule_label_from_json(const nlohmann::json & j, int max_n);

// The label of sample `s` shown in `order` (order[p] = response shown at position p); an error
// when the sample lacks the ground truth the rule needs (best for n >= 2; for n = 1 ratings, or
// label when binary).
Result<nlohmann::json> shown_label_json(const Sample & s, const std::vector<int> & order, bool binary = false);

// rule_reward of one judgment text against a label.
RuleReward label_reward(const RuleLabel & label, const std::string & text, bool stopped);

}  // namespace grm::scaling
