// The examples/ programs (grm used as a C++ library) run as a user runs them: on the embedded
// default GRM they pick the right response and rank rollouts; on a random model they report
// unscorable judgments and make up nothing.
#include "cli_run.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

grm::test::CliRun run_example(const std::string & name, const std::string & args) {
    return grm::test::run_program("examples/" + name, args);
}

double reward_of(const std::string & out, int rollout) {
    std::string key = "rollout " + std::to_string(rollout) + ": reward ";
    size_t      at  = out.find(key);
    return at == std::string::npos ? -1.0 : std::atof(out.c_str() + at + key.size());
}

}  // namespace

TEST(Examples, BestOfNPicksTheRightSumWithTheDefaultModel) {
    auto r = run_example("best_of_n", "'' 4");  // '' = the embedded default
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("4 of 4 judgments scorable"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pick: response 1\n"), std::string::npos) << r.out;  // "47 + 38 = 85."
}

TEST(Examples, GrpoRewardsRankRightRolloutsAboveWrongOnes) {
    auto r = run_example("grpo_rewards", "'' 2");
    ASSERT_EQ(r.code, 0) << r.out;
    for (int right : { 0, 2 }) {      // "12 * 11 = 132.", "132"
        for (int wrong : { 1, 3 }) {  // "= 122.", "It is 121."
            EXPECT_GT(reward_of(r.out, right), reward_of(r.out, wrong)) << r.out;
        }
    }
}

TEST(Examples, RandomModelIsReportedUnscorableNeverScored) {
    grm::LlamaConfig c = grm::test::default_tiny_config();
    c.n_ctx            = 2048;
    auto r             = run_example("best_of_n", grm::test::tiny_model(c) + " 2");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("0 of 2 judgments scorable"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no pick: nothing scorable"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("reward"), std::string::npos) << r.out;
}
