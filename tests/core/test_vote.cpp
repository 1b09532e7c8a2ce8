// Shuffling, the correctness rule (Eq. 10), argmax helpers and voting, by hand-computed tables.
#include "core/judge.h"
#include "core/vote.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

using namespace grm;

namespace {

Sample pair_sample(int best, std::vector<int> ratings) {
    Sample s;
    s.conversation = { { "user", "q" } };
    s.responses.assign(ratings.size(), "r");
    s.ratings = std::move(ratings);
    s.best    = best;
    return s;
}

Trajectory traj(std::vector<int> scores, std::optional<double> meta = std::nullopt) {
    Trajectory t;
    t.parsed.scores = scores;
    t.scores        = scores;
    t.meta_score    = meta;
    return t;
}

Trajectory bad(Unscorable why) {
    Trajectory t;
    t.parsed.reason = why;
    return t;
}

}  // namespace

TEST(Shuffle, IsASeededPermutation) {
    for (int n = 1; n <= 6; n++) {
        for (uint64_t seed = 0; seed < 20; seed++) {
            auto o = shuffle_order(n, seed);
            auto s = o;
            std::sort(s.begin(), s.end());
            for (int i = 0; i < n; i++) EXPECT_EQ(s[i], i);
            EXPECT_EQ(o, shuffle_order(n, seed));
        }
    }
    std::set<std::vector<int>> seen;
    for (uint64_t seed = 0; seed < 200; seed++) seen.insert(shuffle_order(3, seed));
    EXPECT_EQ(seen.size(), 6u);  // every order of 3 occurs
    EXPECT_EQ(shuffle_order(4, 9, false), (std::vector<int>{ 0, 1, 2, 3 }));
}

TEST(Shuffle, ScoresMapBackToOriginalOrder) {
    // shown order: original 2, then 0, then 1
    EXPECT_EQ(unshuffle_scores({ 9, 4, 1 }, { 2, 0, 1 }), (std::vector<int>{ 4, 1, 9 }));
}

TEST(Correctness, PairwiseAndSingle) {
    Sample s = pair_sample(1, { 3, 9, 5 });
    EXPECT_TRUE(is_correct({ 2, 8, 7 }, s));
    EXPECT_FALSE(is_correct({ 8, 8, 1 }, s));  // tie at the top is wrong
    EXPECT_FALSE(is_correct({ 9, 8, 1 }, s));
    EXPECT_FALSE(is_correct({ 1, 8 }, s));     // wrong count
    Sample one;
    one.conversation = { { "user", "q" } };
    one.responses    = { "r" };
    one.ratings      = { 7 };
    EXPECT_TRUE(is_correct({ 7 }, one));
    EXPECT_FALSE(is_correct({ 6 }, one));
    // binary: a 0/1 judgment against the 0/1 label; the ratings are not read, nor the label otherwise
    one.ratings.clear();
    one.label = 0;
    EXPECT_TRUE(is_correct({ 0 }, one, true));
    EXPECT_FALSE(is_correct({ 1 }, one, true));
    EXPECT_FALSE(is_correct({ 0 }, one));  // a 1..10 judgment has no rating to equal
    one.label = 1;
    EXPECT_TRUE(is_correct({ 1 }, one, true));
    EXPECT_FALSE(is_correct({ 1 }, one));
    one.label.reset();
    EXPECT_FALSE(is_correct({ 0 }, one, true));
    EXPECT_FALSE(is_correct({ 1 }, one, true));
}

TEST(Argmax, StrictAndRandomTieBreak) {
    EXPECT_EQ(strict_argmax({ 1, 5, 3 }), 1);
    EXPECT_EQ(strict_argmax({ 5, 5, 3 }), std::nullopt);
    EXPECT_EQ(strict_argmax({}), std::nullopt);
    int zeros = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        int w = random_tiebreak_argmax({ 5, 5, 3 }, seed);
        EXPECT_TRUE(w == 0 || w == 1);
        zeros += w == 0;
    }
    EXPECT_NEAR(zeros, 500, 60);  // fair between the tied
    EXPECT_EQ(random_tiebreak_argmax({ 1, 7, 3 }, 4), 1);
}

TEST(Vote, SumsValidSamplesAndCountsReasons) {
    Judgment j;
    j.samples = { traj({ 8, 3 }), bad(Unscorable::no_box), traj({ 6, 6 }), bad(Unscorable::truncated), traj({ 2, 9 }) };
    vote(j, 5, 0, false);
    EXPECT_EQ(j.rewards, (std::vector<double>{ 16, 18 }));
    EXPECT_EQ(j.n_valid, 3);
    EXPECT_EQ(j.n_voted, 3);
    EXPECT_EQ(j.best, 1);
    EXPECT_EQ(j.unscorable.at("no_box"), 1);
    EXPECT_EQ(j.unscorable.at("truncated"), 1);
    // voting@k uses the first k samples only
    vote(j, 2, 0, false);
    EXPECT_EQ(j.rewards, (std::vector<double>{ 8, 3 }));
    EXPECT_EQ(j.best, 0);
    vote(j, 3, 0, false);
    EXPECT_EQ(j.rewards, (std::vector<double>{ 14, 9 }));
}

TEST(Vote, NothingValidMeansNoRewards) {
    Judgment j;
    j.samples = { bad(Unscorable::no_box), bad(Unscorable::wrong_count) };
    vote(j, 2, 0, false);
    EXPECT_TRUE(j.rewards.empty());
    EXPECT_EQ(j.best, std::nullopt);
    EXPECT_EQ(j.n_valid, 0);
}

TEST(Vote, MetaGuidedKeepsTopKMeta) {
    Judgment j;
    j.samples = { traj({ 9, 1 }, 0.1), traj({ 2, 8 }, 0.9), traj({ 3, 7 }, 0.8), traj({ 10, 1 }, 0.2) };
    vote(j, 4, 2, true);
    EXPECT_EQ(j.rewards, (std::vector<double>{ 5, 15 }));
    EXPECT_EQ(j.n_voted, 2);
    EXPECT_FALSE(j.samples[0].voted);
    EXPECT_TRUE(j.samples[1].voted);
    vote(j, 4, 0, true);  // default k_meta = k / 2
    EXPECT_EQ(j.n_voted, 2);
    vote(j, 4, 1, true);
    EXPECT_EQ(j.rewards, (std::vector<double>{ 2, 8 }));
    // plain voting over the same samples picks the other response
    vote(j, 4, 0, false);
    EXPECT_EQ(j.rewards, (std::vector<double>{ 24, 17 }));
}
