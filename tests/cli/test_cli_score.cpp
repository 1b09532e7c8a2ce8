// `grm score` as a user runs it: the real binary on a real GGUF written by grm.
#include "cli_run.h"
#include "core/judge.h"
#include "core/judgment_json.h"
#include "engines/make_engine.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace {

using grm::test::CliRun;
using grm::test::run_grm;

// the fixture vocab is one token per character: the judging prompt needs a long context
std::string model_path() {
    grm::LlamaConfig c = grm::test::default_tiny_config();
    c.n_ctx            = 2048;
    return grm::test::tiny_model(c);
}

std::string model() { return " -m " + model_path() + " --threads 1 "; }

}  // namespace

TEST(CliScore, OutputEqualsTheLibraryJudgmentAndFollowsTheSeed) {
    // every sampling flag explicit: the library call below must not depend on the CLI's defaults
    std::string args = "score" + model() + "-q 'What is 47 + 38?' -r 85 -r 75 -k 8 -t 1.0 --top-p 1.0 --top-k 0 "
                                           "--max-tokens 16 --json";
    CliRun a = run_grm(args + " --seed 1"), b = run_grm(args + " --seed 1"), c = run_grm(args + " --seed 2");
    ASSERT_EQ(a.code, 0) << a.out;
    ASSERT_EQ(c.code, 0) << c.out;

    // The same judgment straight from the library (engine + judge_batch), in this process.
    grm::EngineOptions eo;
    eo.model         = model_path();
    eo.llama.threads = 1;
    auto engine = grm::make_engine(eo);
    ASSERT_TRUE(engine.ok()) << engine.error().to_string();
    grm::Sample s;
    s.id           = "cli";
    s.conversation = { { "user", "What is 47 + 38?" } };
    s.responses    = { "85", "75" };
    grm::JudgeParams p;
    p.k                    = 8;
    p.seed                 = 1;
    p.sampling.temperature = 1.0f;
    p.sampling.top_p       = 1.0f;
    p.sampling.top_k       = 0;
    p.sampling.max_tokens  = 16;
    p.prompt               = grm::default_template(true);
    auto lib               = grm::judge_batch(**engine, { s }, p);
    ASSERT_EQ(lib.size(), 1u);
    ASSERT_TRUE(lib[0].ok()) << lib[0].error().to_string();
    auto want = grm::judgment_to_json(s, *lib[0]);
    auto j    = nlohmann::json::parse(a.out);
    ASSERT_EQ(j["samples"].size(), 8u);
    for (size_t i = 0; i < 8; i++) {
        EXPECT_EQ(j["samples"][i]["text"], want["samples"][i]["text"]) << i;
        EXPECT_EQ(j["samples"][i]["order"], want["samples"][i]["order"]) << i;
    }
    EXPECT_EQ(j, want);
    EXPECT_EQ(a.out, b.out);  // the same seed again: the same bytes
    // another seed: other samples (the 8 texts as a whole differ), and within a run the samples differ
    auto other = nlohmann::json::parse(c.out);
    std::set<std::string> texts_a, texts_c;
    for (size_t i = 0; i < 8; i++) {
        texts_a.insert(j["samples"][i]["text"].get<std::string>());
        texts_c.insert(other["samples"][i]["text"].get<std::string>());
    }
    EXPECT_NE(texts_a, texts_c);
    EXPECT_GT(texts_a.size(), 1u);

    // a random model cannot box its scores: every sample is unscorable with its reason, no reward
    int counted = 0;
    for (auto & t : j["samples"]) {
        EXPECT_FALSE(t["valid"].get<bool>());
        std::string reason = t["reason"];
        EXPECT_TRUE(reason == "truncated" || reason == "no_box") << reason;  // no_box: ended early
        counted += j["unscorable"][reason].get<int>() > 0;
    }
    EXPECT_EQ(counted, 8);
    EXPECT_TRUE(j["rewards"].empty());
}

TEST(CliScore, TextOutputShowsUnscorableReason) {
    CliRun r = run_grm("score" + model() + "-q 'Reverse the word cat.' -r tac -k 2 --max-tokens 8 --seed 3");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("UNSCORABLE (truncated)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("rewards: none (no scorable sample)"), std::string::npos) << r.out;
}

TEST(CliScore, JsonlOnStdin) {
    std::string lines = R"({"id":"a","query":"q1","responses":["x","y"]})"
                        "\n"
                        R"({"id":"b","conversation":[{"role":"user","content":"q2"}],"responses":["z"]})"
                        "\n";
    CliRun r = run_grm("score" + model() + "-k 2 --max-tokens 4 --json", lines);
    ASSERT_EQ(r.code, 0) << r.out;
    std::istringstream in(r.out);
    std::string        line;
    std::vector<std::string> ids;
    while (std::getline(in, line)) ids.push_back(nlohmann::json::parse(line)["id"]);
    EXPECT_EQ(ids, (std::vector<std::string>{ "a", "b" }));
}

TEST(CliScore, BadInputNamesTheProblem) {
    CliRun missing = run_grm("score" + model() + "--json", R"({"query":"q"})" "\n");
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.out.find("stdin:1: field 'responses': missing"), std::string::npos) << missing.out;

    CliRun malformed = run_grm("score" + model(), "{\"query\": \n");
    EXPECT_EQ(malformed.code, 2);
    EXPECT_NE(malformed.out.find("stdin:1: malformed JSON"), std::string::npos) << malformed.out;

    CliRun no_model = run_grm("score -m /nonexistent.gguf -q q -r r");
    EXPECT_EQ(no_model.code, 2);
    EXPECT_NE(no_model.out.find("model file '/nonexistent.gguf' does not exist"), std::string::npos) << no_model.out;

    CliRun no_query = run_grm("score" + model() + "-r r");
    EXPECT_EQ(no_query.code, 2);
    EXPECT_NE(no_query.out.find("--response given without --query"), std::string::npos) << no_query.out;

    std::string file = grm::test::temp_dir() + "/bad.json";
    std::ofstream(file) << R"({"query":"q","responses":["a","b"],"best":5})";
    CliRun bad_file = run_grm("score" + model() + "-f " + file);
    EXPECT_EQ(bad_file.code, 2);
    EXPECT_NE(bad_file.out.find("item 0: field 'best': index 5 out of range for 2 responses"), std::string::npos) << bad_file.out;
}

TEST(CliScore, TooLongInputIsReportedAndExitsNonZero) {
    std::string long_query(5000, 'a');
    CliRun r = run_grm("score" + model() + "-q '" + long_query + "' -r x -k 2");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("context_overflow: prompt has"), std::string::npos) << r.out.substr(0, 500);
}

TEST(CliScore, UnreachableServerIsAClearError) {
    CliRun r = run_grm("score -m http://127.0.0.1:" + std::to_string(grm::test::free_port()) + " --retries 0 -q q -r r");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("unavailable: http://127.0.0.1:"), std::string::npos) << r.out;
}
