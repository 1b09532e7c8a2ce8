// run_eval with the real in-process llama.cpp engine on a tiny random-weight GGUF written by grm:
// every trajectory is stored (a random model's text is unscorable, and counted as such), a prompt
// longer than the context is skipped with a count, and a rerun resumes with nothing left to do.
#include "common/fixtures.h"
#include "engines/make_engine.h"
#include "eval/harness.h"
#include "eval/results.h"

#include <gtest/gtest.h>

#include <set>

using namespace grm;

namespace {

std::vector<Sample> samples() {
    std::vector<Sample> out;
    for (int i = 0; i < 4; i++) {
        Sample s;
        s.id           = "llama-" + std::to_string(i);
        s.domain       = "arith";
        s.level        = 1 + i % 2;
        // the tiny model's context is 256 byte-level tokens: input 3 cannot fit
        s.conversation = { { "user", i == 3 ? std::string(400, 'x') : "What is " + std::to_string(i) + " + 2?" } };
        s.responses    = { std::to_string(i + 2), std::to_string(i + 3) };
        s.best         = 0;
        out.push_back(std::move(s));
    }
    return out;
}

EvalParams params() {
    EvalParams p;
    p.ks                         = { 1, 2 };
    p.greedy                     = true;
    p.batch                      = 2;
    p.seed                       = 5;
    p.judge.chat                 = false;
    p.judge.sampling.max_tokens  = 12;
    p.judge.sampling.temperature = 0.5f;
    // A short template keeps the prompts inside the tiny context.
    p.judge.prompt.multi = "{query}\n{responses}\nScores:";
    return p;
}

}  // namespace

TEST(HarnessLlama, RunsSkipsOverflowAndResumes) {
    EngineOptions o;
    o.model   = test::tiny_model();
    o.llama.threads = 2;
    auto engine     = make_engine(o);
    ASSERT_TRUE(engine) << engine.error().to_string();
    std::string out = test::temp_dir() + "/eval";

    auto first = run_eval(**engine, samples(), params(), out);
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_EQ(first->sampled.inputs, 4);
    EXPECT_EQ(first->sampled.skipped, 1);
    EXPECT_EQ(first->sampled.skipped_reasons.at("context_overflow"), 1);
    EXPECT_EQ(first->sampled.samples_per_input, 2);
    EXPECT_EQ(first->sampled.trajectories, 3 * 2);
    ASSERT_TRUE(first->greedy);
    EXPECT_EQ(first->greedy->trajectories, 3);
    EXPECT_EQ(first->greedy->skipped, 1);

    auto records = read_results(first->results_path);
    ASSERT_TRUE(records);
    std::set<std::string> ids;
    int                   unscorable = 0, scored = 0;
    for (const EvalRecord & r : *records) {
        ids.insert(r.truth.id);
        for (const TrajectoryRecord & t : r.trajectories) {
            EXPECT_EQ(t.order.size(), 2u);
            (t.reason == "none" ? scored : unscorable)++;
        }
    }
    EXPECT_EQ(ids.size(), 4u);
    int counted = 0;
    for (auto & [reason, n] : first->sampled.unscorable) counted += n;
    EXPECT_EQ(counted, unscorable);
    EXPECT_EQ(scored + unscorable, 6);

    auto again = run_eval(**engine, samples(), params(), out);
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(again->judged_now, 0);
    EXPECT_EQ(again->resumed, 8);
}
