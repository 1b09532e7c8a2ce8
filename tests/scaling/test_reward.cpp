// The rule reward (Eq. 10 after unshuffling, unscorable = -1) and group advantages, by hand.
#include "scaling/reward.h"

#include <gtest/gtest.h>

#include <cmath>

namespace grm::rl {
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

TEST(GroupAdvantages, HandTable) {
    // group of 4: [1, -1, -1, -1]: mean -0.5, population std sqrt(0.75).
    const double sd  = std::sqrt(0.75);
    auto         adv = group_advantages({1, -1, -1, -1, 1, 1, -1, -1}, 4);
    ASSERT_EQ(adv.size(), 8u);
    EXPECT_NEAR(adv[0], 1.5 / sd, 1e-12);
    EXPECT_NEAR(adv[1], -0.5 / sd, 1e-12);
    EXPECT_NEAR(adv[3], -0.5 / sd, 1e-12);
    for (int i = 4; i < 8; ++i) EXPECT_NEAR(adv[i], i < 6 ? 1.0 : -1.0, 1e-12);  // mean 0, std 1
}

TEST(GroupAdvantages, UniformGroupsGiveZero) {
    auto adv = group_advantages({1, 1, 1, 1, -1, -1, -1, -1, 1, -1, 1, -1}, 4);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(adv[i], 0.0) << i;
    EXPECT_NEAR(adv[8], 1.0, 1e-12);
    EXPECT_NEAR(adv[9], -1.0, 1e-12);
}

}  // namespace
}  // namespace grm::rl
