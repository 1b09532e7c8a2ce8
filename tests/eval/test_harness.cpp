// run_eval bookkeeping: resume after an interrupted run and a torn line with nothing lost or
// duplicated, context overflow reported as skipped, settings checked on resume, report written
// (and rewritten later from the run's own settings).
// The engine here is scripted (fixed texts): these tests cover the harness's bookkeeping, not a
// model; test_cli.cpp runs the real binary.
#include "eval/harness.h"
#include "eval/results.h"
#include "eval_test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

using namespace grm;
using grm::test::TempDir;

namespace {

// Answers every prompt with a fixed judgment for two responses; a prompt containing "TOO LONG"
// fails with a context overflow; after `budget` requests the "server" goes away.
class ScriptedEngine : public Engine {
  public:
    int budget   = 1 << 30;
    int requests = 0;

    std::string describe() const override { return "scripted"; }

    std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & reqs) override {
        std::vector<GenerationResult> out;
        for (const GenerationRequest & r : reqs) {
            if (budget-- <= 0) {
                out.push_back(make_error(Errc::unavailable, "connection refused"));
                continue;
            }
            requests++;
            if (r.prompts[0].find("TOO LONG") != std::string::npos) {
                out.push_back(make_error(Errc::context_overflow, "prompt of 9999 tokens exceeds the context of 512"));
                continue;
            }
            std::vector<Generation> gens;
            for (size_t i = 0; i < r.prompts.size(); i++) {
                Generation g;
                // every third sample unscorable, the others alternate which position wins
                if (i % 3 == 2) g.text = "Analysis: undecided.";
                else g.text = i % 2 ? "Analysis: fine.\nScores: \\boxed{3, 8}" : "Analysis: fine.\nScores: \\boxed{8, 3}";
                gens.push_back(g);
            }
            out.push_back(std::move(gens));
        }
        return out;
    }
};

std::vector<Sample> make_samples(int count) {
    std::vector<Sample> out;
    for (int i = 0; i < count; i++) {
        Sample s;
        s.id           = "s" + std::to_string(i);
        s.domain       = i % 2 ? "sort" : "arith";
        s.level        = 1 + i % 3;
        s.conversation = { { "user", i == 5 ? "TOO LONG query" : "What is " + std::to_string(i) + " + 1?" } };
        s.responses    = { std::to_string(i + 1), std::to_string(i + 2) };
        s.best         = 0;
        out.push_back(std::move(s));
    }
    return out;
}

EvalParams params() {
    EvalParams p;
    p.ks     = { 1, 2, 4 };
    p.batch  = 3;
    p.seed   = 11;
    p.greedy = true;
    return p;
}

std::map<std::string, int> id_counts(const std::string & path) {
    std::map<std::string, int> c;
    auto                       rs = read_results(path);
    EXPECT_TRUE(rs);
    for (const EvalRecord & r : *rs) c[r.truth.id]++;
    return c;
}

}  // namespace

TEST(Harness, ResumesAfterInterruptionWithoutLossOrDuplication) {
    TempDir             dir;
    std::string         out     = dir.path.string();
    std::vector<Sample> samples = make_samples(10);

    // First attempt: the server disappears after 2 engine requests (inputs), mid-batch.
    ScriptedEngine flaky;
    flaky.budget = 2;
    auto first   = run_eval(flaky, samples, params(), out);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().code, Errc::unavailable);
    auto after_first = id_counts(dir.file("results.jsonl"));
    EXPECT_EQ(after_first.size(), 2u);  // the two finished inputs of the interrupted batch were kept

    // A kill during the next write leaves half a line behind.
    {
        std::ofstream f(dir.file("results.jsonl"), std::ios::app);
        f << "{\"id\": \"s2\", \"n\": 2, \"samp";
    }

    ScriptedEngine healthy;
    auto           second = run_eval(healthy, samples, params(), out);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second->dropped_torn_line);
    EXPECT_EQ(healthy.requests, 8 + 10);  // the 8 remaining sampled inputs, then 10 greedy
    auto counts = id_counts(dir.file("results.jsonl"));
    ASSERT_EQ(counts.size(), 10u);
    for (auto & [id, n] : counts) EXPECT_EQ(n, 1) << id;
    EXPECT_EQ(id_counts(dir.file("greedy.jsonl")).size(), 10u);

    // Running again does no work.
    ScriptedEngine idle;
    auto           third = run_eval(idle, samples, params(), out);
    ASSERT_TRUE(third);
    EXPECT_EQ(idle.requests, 0);
    EXPECT_EQ(third->resumed, 20);
}

TEST(Harness, ContextOverflowIsSkippedAndCounted) {
    TempDir        dir;
    ScriptedEngine engine;
    EvalParams     p = params();
    // Responses shown in their given order, so every number below follows by hand from the script:
    // sample 0 boxes {8, 3} (right), 1 and 3 box {3, 8} (wrong), 2 is unscorable; s5 overflows.
    p.judge.shuffle = false;
    auto o          = run_eval(engine, make_samples(8), p, dir.path.string());
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->sampled.inputs, 8);
    EXPECT_EQ(o->sampled.skipped, 1);
    EXPECT_EQ(o->sampled.skipped_reasons, (std::map<std::string, int>{ { "context_overflow", 1 } }));
    EXPECT_EQ(o->sampled.judged, 7);
    ASSERT_TRUE(o->greedy);
    EXPECT_EQ(o->greedy->skipped, 1);
    EXPECT_EQ(o->greedy->skipped_reasons, (std::map<std::string, int>{ { "context_overflow", 1 } }));
    EXPECT_EQ(o->sampled.samples_per_input, 4);
    // sample index 2 of every judged input is unscorable: 7 inputs x 1 (K = 4: indices 0..3)
    EXPECT_EQ(o->sampled.unscorable, (std::map<std::string, int>{ { "no_box", 7 } }));
    EXPECT_TRUE(o->greedy->unscorable.empty());
    ASSERT_EQ(o->sampled.plain.size(), 3u);
    // voting@1: sample 0, right; @2: 11 vs 11, a tie (strict: wrong); @4: 14 vs 19, wrong
    EXPECT_EQ(o->sampled.plain[0].overall.items, 7);
    EXPECT_DOUBLE_EQ(o->sampled.plain[0].overall.strict_acc(), 1.0);
    EXPECT_DOUBLE_EQ(o->sampled.plain[1].overall.strict_acc(), 0.0);
    EXPECT_DOUBLE_EQ(o->sampled.plain[2].overall.strict_acc(), 0.0);
    EXPECT_DOUBLE_EQ(o->sampled.plain[2].overall.random_acc(), 0.0);
    EXPECT_DOUBLE_EQ(o->greedy->plain[0].overall.strict_acc(), 1.0);
    EXPECT_DOUBLE_EQ(o->sampled.mean_item_accuracy, 0.25);  // 1 of 4 samples right on its own

    // The overflowing input is in the results file, marked skipped with its reason and no samples.
    auto rs = read_results(dir.file("results.jsonl"));
    ASSERT_TRUE(rs);
    int skipped = 0;
    for (const EvalRecord & r : *rs) {
        if (r.skipped.empty()) continue;
        skipped++;
        EXPECT_EQ(r.truth.id, "s5");
        EXPECT_EQ(r.skipped, "context_overflow: prompt of 9999 tokens exceeds the context of 512");
        EXPECT_TRUE(r.trajectories.empty());
    }
    EXPECT_EQ(skipped, 1);

    std::ifstream rep(o->report_path);
    std::string   md((std::istreambuf_iterator<char>(rep)), {});
    for (const char * row : { "- inputs: 8 (judged 7, skipped 1, without ground truth 0)",
                              "| greedy | 7 | 100.0 | 100.0 |", "| voting@1 | 7 | 100.0 | 100.0 |",
                              "| voting@4 | 7 | 0.0 | 0.0 |",
                              // per domain and level: greedy, voting@1, voting@4 (s5, a sort/level-3 input, is skipped)
                              "| arith | 4 | 100.0 / 100.0 | 100.0 / 100.0 | 0.0 / 0.0 |",
                              "| sort | 3 | 100.0 / 100.0 | 100.0 / 100.0 | 0.0 / 0.0 |",
                              "| 3 | 1 | 100.0 / 100.0 | 100.0 / 100.0 | 0.0 / 0.0 |",
                              "| reason | sampled (of 28) | greedy (of 7) |", "| no_box | 7 | 0 |",
                              "## Skipped inputs", "| context_overflow | 1 | 1 |", "Mean 25.0%.", "| [0.2, 0.4) | 7 |" }) {
        EXPECT_NE(md.find(row), std::string::npos) << row << "\n" << md;
    }
    std::ifstream svg(o->plot_path);
    std::string   plot((std::istreambuf_iterator<char>(svg)), {});
    EXPECT_EQ(plot.rfind("<svg", 0), 0u);
    EXPECT_NE(plot.find("voting@k"), std::string::npos);
    EXPECT_NE(plot.find("greedy"), std::string::npos);
}

TEST(Harness, ResumeWithDifferentSettingsIsRefused) {
    TempDir        dir;
    ScriptedEngine engine;
    ASSERT_TRUE(run_eval(engine, make_samples(3), params(), dir.path.string()));
    EvalParams other = params();
    other.ks         = { 1, 2, 8 };
    auto o           = run_eval(engine, make_samples(3), other, dir.path.string());
    ASSERT_FALSE(o);
    EXPECT_NE(o.error().message.find("samples_per_input"), std::string::npos) << o.error().message;
}

TEST(Harness, RewrittenReportDescribesTheRunNotTheRewritesFlags) {
    TempDir        dir;
    ScriptedEngine engine;
    EvalParams     run = params();
    run.model                      = "scripted judge";
    run.judge.sampling.max_tokens  = 300;
    run.judge.sampling.temperature = 0.7f;
    ASSERT_TRUE(run_eval(engine, make_samples(3), run, dir.path.string()));
    EvalParams rewrite   = params();  // the defaults: max_tokens 1024, T 0.5
    rewrite.model        = "x";
    rewrite.judge.k_meta = 2;
    auto o               = report_eval(rewrite, dir.path.string());
    ASSERT_TRUE(o) << o.error().message;
    std::ifstream rep(o->report_path);
    std::string   md((std::istreambuf_iterator<char>(rep)), {});
    EXPECT_NE(md.find("- model: scripted judge\n"), std::string::npos) << md;
    EXPECT_NE(md.find("temperature 0.70; K = 4 samples per input; max_tokens 300"), std::string::npos) << md;
    EXPECT_NE(md.find("(k_meta = 2, all k when k is smaller)"), std::string::npos) << md;  // the rewrite's choice
}

TEST(Harness, DuplicateIdsStopBeforeWork) {
    TempDir             dir;
    ScriptedEngine      engine;
    std::vector<Sample> s = make_samples(3);
    s[2].id               = s[0].id;
    auto o                = run_eval(engine, s, params(), dir.path.string());
    ASSERT_FALSE(o);
    EXPECT_EQ(engine.requests, 0);
}

TEST(Inputs, MalformedLineNamesFileAndLine) {
    TempDir     dir;
    std::string path = dir.file("in.jsonl");
    {
        std::ofstream f(path);
        f << R"({"id":"a","conversation":[{"role":"user","content":"q"}],"responses":["x","y"],"best":0})" << "\n";
        f << R"({"id":"b","conversation":[{"role":"user","content":"q"}],"responses":"oops"})" << "\n";
        f << R"({"id":"c","conversation":[{"role":"user","content":"q"}],"responses":["x"],"label":1})" << "\n";
    }
    auto strict = read_samples_jsonl(path);
    ASSERT_FALSE(strict);
    EXPECT_NE(strict.error().message.find(path + ":2:"), std::string::npos) << strict.error().message;
    auto lenient = read_samples_jsonl(path, true);
    ASSERT_TRUE(lenient);
    EXPECT_EQ(lenient->samples.size(), 2u);
    ASSERT_EQ(lenient->skipped.size(), 1u);
    EXPECT_EQ(lenient->skipped[0].rfind(path + ":2:", 0), 0u);
}
