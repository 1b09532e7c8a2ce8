// The examples/ programs (grm used as a C++ library) run as a user runs them: on the embedded
// default GRM they pick the right response and rank rollouts; on a random model they report
// unscorable judgments and make up nothing.
#include "common/fixtures.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

namespace {

struct ExampleRun {
    int         code = -1;
    std::string out;
};

ExampleRun run_example(const std::string & name, const std::string & args) {
    std::string cmd = grm::test::built_program("examples/" + name) + " " + args + " 2>&1";
    ExampleRun  r;
    FILE *      p = popen(cmd.c_str(), "r");
    std::array<char, 4096> buf;
    size_t                 n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    int status = pclose(p);
    r.code     = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

double reward_of(const std::string & out, int rollout) {
    std::string key = "rollout " + std::to_string(rollout) + ": reward ";
    size_t      at  = out.find(key);
    return at == std::string::npos ? -1.0 : std::atof(out.c_str() + at + key.size());
}

}  // namespace

TEST(Examples, BestOfNPicksTheRightSumWithTheDefaultModel) {
    ExampleRun r = run_example("best_of_n", "'' 4");  // '' = the embedded default
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("4 of 4 judgments scorable"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pick: response 1\n"), std::string::npos) << r.out;  // "47 + 38 = 85."
}

TEST(Examples, GrpoRewardsRankRightRolloutsAboveWrongOnes) {
    ExampleRun r = run_example("grpo_rewards", "'' 2");
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
    ExampleRun r       = run_example("best_of_n", grm::test::tiny_model(c) + " 2");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("0 of 2 judgments scorable"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no pick: nothing scorable"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("reward"), std::string::npos) << r.out;
}
