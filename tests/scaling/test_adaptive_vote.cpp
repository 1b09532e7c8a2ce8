// Adaptive voting: the exact overtaking bound and the confidence rule, by hand.
#include "scaling/adaptive_vote.h"

#include <gtest/gtest.h>

namespace grm::scaling {
namespace {

TEST(AdaptiveVote, LeaderSafeBoundTable) {
    struct Row {
        std::vector<double> rewards;
        int                 remaining;
        bool                safe;
    };
    const std::vector<Row> rows = {
        {{10, 1}, 1, false},      // lead 9 = 9 * 1: the last sample can tie (1 vs 10)
        {{11, 1}, 1, true},       // lead 10 > 9
        {{19, 1}, 2, false},      // lead 18 = 9 * 2
        {{20, 1}, 2, true},
        {{20, 1, 11}, 1, false},  // the closer rival decides: lead 9 over response 2
        {{20, 1, 10}, 1, true},
        {{5, 5}, 0, false},       // a tie is never a leader
        {{6, 5}, 0, true},        // nothing left to come: any strict lead stands
    };
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(leader_is_safe(rows[i].rewards, rows[i].remaining), rows[i].safe) << i;
}

TEST(AdaptiveVote, StopsByBoundWhenCaughtUpIsImpossible) {
    // max_k 4; sample scores (10, 1) each: after 3 samples the lead is 27 > 9 * 1.
    std::vector<std::vector<int>> s(4, {10, 1});
    AdaptiveVoteParams            p;
    p.max_k   = 4;
    auto r    = adaptive_vote(s, 2, p);
    EXPECT_EQ(r.used, 3);
    EXPECT_EQ(r.rule, StopRule::bound);
    ASSERT_TRUE(r.best.has_value());
    EXPECT_EQ(*r.best, 0);
    EXPECT_EQ(r.rewards, (std::vector<double>{30, 3}));
}

TEST(AdaptiveVote, NoEarlyStopWhileOvertakable) {
    // A lead of 1 per sample never exceeds 9 * remaining before the budget runs out.
    std::vector<std::vector<int>> s(4, {6, 5});
    AdaptiveVoteParams            p;
    p.max_k = 4;
    auto r  = adaptive_vote(s, 2, p);
    EXPECT_EQ(r.used, 4);
    EXPECT_EQ(r.rule, StopRule::budget);
}

TEST(AdaptiveVote, UnscorableSamplesAddNothing) {
    std::vector<std::vector<int>> s = {{}, {10, 1}, {}, {10, 1}};
    AdaptiveVoteParams            p;
    p.max_k = 4;
    auto r  = adaptive_vote(s, 2, p);
    EXPECT_EQ(r.used, 4);  // the lead of 9 never exceeds 9 * remaining before the budget ends
    EXPECT_EQ(r.rewards, (std::vector<double>{20, 2}));
}

TEST(AdaptiveVote, ConfidenceRule) {
    // Every valid sample prefers response 1 by one point: the bound never fires, the confidence
    // rule (all of >= 4 valid samples agree) does at sample 4.
    std::vector<std::vector<int>> s(32, {5, 6, 2});
    AdaptiveVoteParams            p;
    p.max_k      = 32;
    p.confidence = 0.9;
    p.min_k      = 4;
    auto r       = adaptive_vote(s, 3, p);
    EXPECT_EQ(r.used, 4);
    EXPECT_EQ(r.rule, StopRule::confidence);
    EXPECT_EQ(*r.best, 1);
    // Without it only the bound stops: after i samples the lead over response 0 is i, safe once
    // i > 9 * (32 - i), i.e. at i = 29.
    p.confidence = 0.0;
    auto b       = adaptive_vote(s, 3, p);
    EXPECT_EQ(b.used, 29);
    EXPECT_EQ(b.rule, StopRule::bound);
}

TEST(AdaptiveVote, SingleResponseUsesTheBudget) {
    std::vector<std::vector<int>> s(8, {7});
    AdaptiveVoteParams            p;
    p.max_k = 8;
    EXPECT_EQ(adaptive_vote(s, 1, p).used, 8);
}

}  // namespace
}  // namespace grm::scaling

namespace grm::scaling {
namespace {

// Answers every prompt with the same verdict and counts what it was asked for.
class ScriptedEngine : public Engine {
  public:
    std::string describe() const override { return "scripted"; }
    std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & requests) override {
        std::vector<GenerationResult> out;
        for (const auto & r : requests) {
            std::vector<Generation> gens(r.prompts.size());
            for (auto & g : gens) g.text = "Scores: \\boxed{10, 1}";
            prompts += int(r.prompts.size());
            out.push_back(std::move(gens));
        }
        return out;
    }
    int prompts = 0;
};

TEST(AdaptiveJudge, StopsDrawingOnceTheBoundHolds) {
    Sample s;
    s.id           = "a";
    s.conversation = {{"user", "q"}};
    s.responses    = {"x", "y"};
    JudgeParams jp;
    jp.shuffle = false;  // the scripted verdict is in shown order
    AdaptiveVoteParams p;
    p.max_k = 8;
    ScriptedEngine engine;
    // Leads of 9 per sample: after i samples 9i > 9(8 - i) first at i = 5; chunks of 2 draw 6.
    auto r = adaptive_judge(engine, s, jp, p, 2);
    ASSERT_TRUE(bool(r)) << r.error().to_string();
    EXPECT_EQ(engine.prompts, 6);
    EXPECT_EQ(r->vote.used, 5);
    EXPECT_EQ(r->vote.rule, StopRule::bound);
    EXPECT_EQ(r->judgment.samples.size(), 5u);
    EXPECT_EQ(r->judgment.n_voted, 5);
    EXPECT_EQ(r->judgment.rewards, (std::vector<double>{50, 5}));
    ASSERT_TRUE(r->judgment.best.has_value());
    EXPECT_EQ(*r->judgment.best, 0);
}

}  // namespace
}  // namespace grm::scaling
