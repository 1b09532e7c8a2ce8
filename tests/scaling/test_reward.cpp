// The rule reward (Eq. 10 after unshuffling, unscorable = -1) and group advantages, by hand.
#include "scaling/reward.h"

#include <gtest/gtest.h>

#include <cmath>

namespace grm::scaling {
namespace {

Sample pair_sample() {
    Sample s;
    s.id           = "t";
    s.conversation = {{"user", "q"}};
    s.responses    = {"a", "b", "c"};
    s.ratings      = {9, 3, 5};
    s.best         = 0;
    return s;
}

TEST(RuleReward, Table) {
    const Sample s = pair_sample();
    struct Row {
        std::vector<int> order;
        std::string      text;
        bool             stopped;
        double           reward;
        bool             correct;
        Unscorable       reason;
    };
    // order[p] = original index at position p; boxed scores are in shown order.
    const std::vector<Row> rows = {
        {{0, 1, 2}, "Scores: \\boxed{8, 2, 4}", true, 1.0, true, Unscorable::none},
        {{2, 1, 0}, "Scores: \\boxed{4, 2, 8}", true, 1.0, true, Unscorable::none},    // best shown last
        {{2, 1, 0}, "Scores: \\boxed{8, 2, 4}", true, -1.0, false, Unscorable::none},  // shown-order mixup
        {{0, 1, 2}, "Scores: \\boxed{8, 8, 4}", true, -1.0, false, Unscorable::none},  // tie at the top
        {{0, 1, 2}, "Scores: \\boxed{8, 2}", true, -1.0, false, Unscorable::wrong_count},
        {{0, 1, 2}, "no box at all", true, -1.0, false, Unscorable::no_box},
        {{0, 1, 2}, "Scores: \\boxed{11, 2, 4}", true, -1.0, false, Unscorable::out_of_range},
    };
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto r = rule_reward(s, rows[i].order, rows[i].text, rows[i].stopped);
        EXPECT_EQ(r.reward, rows[i].reward) << i;
        EXPECT_EQ(r.correct, rows[i].correct) << i;
        EXPECT_EQ(r.reason, rows[i].reason) << i;
    }
}

TEST(RuleReward, SingleResponseMatchesRating) {
    Sample s;
    s.id           = "one";
    s.conversation = {{"user", "q"}};
    s.responses    = {"a"};
    s.ratings      = {7};
    EXPECT_EQ(rule_reward(s, {0}, "\\boxed{7}", true).reward, 1.0);
    EXPECT_EQ(rule_reward(s, {0}, "\\boxed{6}", true).reward, -1.0);
}

TEST(RuleReward, BinarySingleMatchesLabel) {
    Sample s;
    s.id           = "one";
    s.conversation = {{"user", "q"}};
    s.responses    = {"a"};
    s.label        = 0;
    EXPECT_EQ(rule_reward(s, {0}, "\\boxed{0}", true, true).reward, 1.0);
    EXPECT_EQ(rule_reward(s, {0}, "\\boxed{1}", true, true).reward, -1.0);
    EXPECT_EQ(rule_reward(s, {0}, "\\boxed{2}", true, true).reason, Unscorable::out_of_range);
    EXPECT_EQ(rule_reward(s, {0}, "\\boxed{0}", true).reason, Unscorable::out_of_range);  // 1..10 unless binary
}

}  // namespace
}  // namespace grm::scaling
