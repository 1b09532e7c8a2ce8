// `grm data import`: every row shape on invented rows (tests/data/fixtures), the errors for
// malformed rows, the real Reward Bench and RMB files when ../shared/benchmarks is present, and the
// command end to end (whole output or none).
#include "data/preference_import.h"

#include "cli/cli_run.h"
#include "common/fixtures.h"
#include "eval/bench_common.h"
#include "eval/realmistake.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace grm::data {
namespace {

const std::string k_fixture = std::string(GRM_SOURCE_DIR) + "/tests/data/fixtures/preferences.jsonl";

std::string write(const std::string & name, const std::string & text) {
    const std::string path = test::temp_dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
}

ImportParams params() {
    ImportParams p;
    p.source = "preferences";
    return p;
}

TEST(DataImport, EveryShape) {
    auto r = import_file(k_fixture, params(), false);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->rows, 17);
    EXPECT_EQ(r->rows_by_shape, (std::map<std::string, long>{
                                    { "listwise", 2 }, { "pairwise", 4 }, { "ratings", 5 }, { "single", 3 }, { "strength", 3 } }));
    EXPECT_EQ(r->dropped, 2);
    EXPECT_EQ(r->dropped_by_reason, (std::map<std::string, long>{ { "tie", 1 }, { "tie at the top", 1 } }));
    ASSERT_EQ(r->samples.size(), 12u);
    const auto & s = r->samples;
    for (const auto & im : s) EXPECT_EQ(im.sample.source, "preferences");
    // pairwise: strings; TRL conversational; full transcripts; RMB objects. The chosen one first.
    EXPECT_EQ(s[0].sample.id, "p-str");
    EXPECT_EQ(s[0].sample.query(), "What is 2+2?");
    EXPECT_EQ(s[0].sample.responses, (std::vector<std::string>{ "4", "5" }));
    EXPECT_EQ(s[0].sample.best, 0);
    EXPECT_EQ(s[1].sample.id, "preferences/2");  // no id in the row: source/line
    EXPECT_EQ(s[1].sample.responses, (std::vector<std::string>{ "hi", "no" }));
    EXPECT_EQ(s[2].sample.query(), "Name a prime.");
    EXPECT_EQ(s[2].sample.conversation.size(), 1u);
    EXPECT_EQ(s[2].sample.responses, (std::vector<std::string>{ "7", "8" }));
    EXPECT_EQ(s[3].sample.id, "rmb-1");
    EXPECT_EQ(s[3].sample.responses, (std::vector<std::string>{ "Paris", "Lyon" }));
    // listwise, and RMB best-of-N (best first)
    EXPECT_EQ(s[4].sample.best, 1);
    EXPECT_EQ(s[4].sample.n(), 3);
    EXPECT_EQ(s[5].sample.id, "bon-1");
    EXPECT_EQ(s[5].sample.responses, (std::vector<std::string>{ "1,2,3", "3,2,1", "1,3,2" }));
    EXPECT_EQ(s[5].sample.best, 0);
    // preference strength: < 0 prefers response_1; the tie is dropped; |strength| is kept
    EXPECT_EQ(s[6].sample.responses, (std::vector<std::string>{ "cat", "dog" }));
    EXPECT_EQ(s[6].preference_strength, 2);
    EXPECT_EQ(s[7].sample.responses, (std::vector<std::string>{ "6", "5" }));
    EXPECT_EQ(s[7].preference_strength, 3);
    EXPECT_EQ(imported_to_json(s[7])["preference_strength"], 3);
    // ratings: the three "Explain rain." rows, helpfulness 2, 4, 0 on 0..4 -> 6, 10, 1; "Explain
    // snow." ties at the top (3, 3) and is dropped
    EXPECT_EQ(s[8].sample.query(), "Explain rain.");
    EXPECT_EQ(s[8].sample.ratings, (std::vector<int>{ 6, 10, 1 }));
    EXPECT_EQ(s[8].sample.best, 1);
    EXPECT_EQ(s[8].sample.responses[2], "No idea.");
    // single responses: error_label, correct, label
    EXPECT_EQ(s[9].sample.query(), "Count to 3.");
    EXPECT_EQ(s[9].sample.label, 1);
    EXPECT_EQ(s[10].sample.label, 0);
    EXPECT_EQ(s[11].sample.label, 1);
}

TEST(DataImport, OverallRuleRanksRatings) {
    ImportParams p = params();
    p.overall      = "correctness";
    auto r         = import_file(k_fixture, p, false);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->dropped_by_reason.count("tie at the top"), 0u);  // snow: correctness 2 vs 4
    ASSERT_EQ(r->samples.size(), 13u);
    EXPECT_EQ(r->samples[8].sample.ratings, (std::vector<int>{ 8, 10, 1 }));
    EXPECT_EQ(r->samples[9].sample.ratings, (std::vector<int>{ 6, 10 }));
    p.overall = "0.5*helpfulness + 0.5*correctness";
    r         = import_file(k_fixture, p, false);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->samples[8].sample.ratings, (std::vector<int>{ 7, 10, 1 }));  // 2.5 -> 1 + 9 * 2.5 / 4 = 6.6 -> 7
    p.overall = "2x*helpfulness";
    EXPECT_NE(import_file(k_fixture, p, false).error().message.find("'2x*helpfulness' is not WEIGHT*ATTRIBUTE"), std::string::npos);
    p.overall = "harmlessness";
    auto missing = import_file(k_fixture, p, false);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("preferences.jsonl:10: field 'harmlessness' (in --overall): expected a number, got nothing"),
              std::string::npos)
        << missing.error().message;
}

TEST(DataImport, MalformedRowsNameFileLineAndField) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        { R"({"prompt": "q", "chosen": 3, "rejected": "b"})", "bad.jsonl:2: field 'chosen': expected a string, a message list or {\"answer\"}, got number" },
        { R"({"chosen": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "rejected": [{"role": "user", "content": "other"}, {"role": "assistant", "content": "b"}]})",
          "bad.jsonl:2: field 'rejected': differs from 'chosen' before the last assistant turn" },
        { R"({"prompt": "q", "response": "a", "label": "yes"})", "bad.jsonl:2: field 'label': missing (looked for label 0/1" },
        { R"({"prompt": "q", "responses": ["a", "b"], "best": 5})", "bad.jsonl:2: field 'best': index 5 out of range for 2 responses" },
        { R"({"prompt": "q", "response_1": "a", "response_2": "b", "preference_strength": "strong"})",
          "bad.jsonl:2: field 'preference_strength': expected an integer, got string" },
        { R"({"text": "no shape"})", "bad.jsonl:2: unrecognised row" },
        { R"({"prompt": "q", "chosen": "a", "rejected": )", "bad.jsonl:2: malformed JSON" },
    };
    for (const auto & [row, want] : cases) {
        const std::string path = write("bad.jsonl", R"({"prompt": "ok", "chosen": "a", "rejected": "b"})" "\n" + row + "\n");
        auto              r    = import_file(path, params(), false);
        ASSERT_FALSE(r.ok()) << row;
        EXPECT_NE(r.error().message.find(want), std::string::npos) << r.error().message;
        auto skipped = import_file(path, params(), true);
        ASSERT_TRUE(skipped.ok()) << row;
        EXPECT_EQ(skipped->samples.size(), 1u) << row;
        ASSERT_EQ(skipped->skipped.size(), 1u) << row;
        EXPECT_NE(skipped->skipped[0].find(want), std::string::npos) << skipped->skipped[0];
    }
}

TEST(DataImport, RealRewardBenchAndRmbRows) {
    const std::string dir = default_benchmarks_dir();
    const std::string rb  = dir + "/rewardbench/derived/rewardbench_filtered.official_columns.jsonl";
    const std::string rmb = dir + "/rmb/RMB_dataset/Pairwise_set/Helpfulness/Brainstorming/Problem Solving.json";
    const std::string bon = dir + "/rmb/RMB_dataset/BoN_set/Helpfulness/Chat";
    if (!std::filesystem::exists(rb) || !std::filesystem::exists(rmb)) GTEST_SKIP() << "no benchmark files in " << dir;
    auto r = import_file(rb, params(), false);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->samples.size(), 2985u);  // the filtered split, every row a pair
    EXPECT_EQ(r->rows_by_shape.at("pairwise"), 2985);
    for (const auto & im : r->samples) ASSERT_EQ(im.sample.best, 0);
    auto p = import_file(rmb, params(), false);
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    auto doc = read_json_file(rmb);
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(p->samples.size(), doc->size());
    EXPECT_EQ(p->samples[0].sample.id, (*doc)[0]["pair_uid"].get<std::string>());
    for (const auto & e : std::filesystem::directory_iterator(bon)) {
        auto b = import_file(e.path().string(), params(), false);
        ASSERT_TRUE(b.ok()) << b.error().to_string();
        EXPECT_GT(b->samples.size(), 0u);
        EXPECT_EQ(b->rows_by_shape.at("listwise"), b->rows);
        EXPECT_GE(b->samples[0].sample.n(), 3);
        break;
    }
}

// The single-response shape on real rows: ReaLMistake, extracted to a temporary folder that is
// removed at once (never committed, never left behind), against eval's own loader.
TEST(DataImport, RealReaLMistakeRowsAsSingles) {
    const std::string zip = default_benchmarks_dir() + "/realmistake/data.zip";
    if (!std::filesystem::exists(zip)) GTEST_SKIP() << "no " << zip;
    auto expected = load_realmistake(default_benchmarks_dir());
    ASSERT_TRUE(expected.ok()) << expected.error().to_string();
    const std::string tmp = test::temp_dir() + "/realmistake";
    std::filesystem::create_directories(tmp);
    const std::string cmd = "unzip -q -o -P " + std::string(kRealMistakePassword) + " '" + zip + "' -d '" + tmp + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "unzip cannot extract " << zip;
    std::vector<Imported> got;
    for (const char * task : { "answerability_classification", "finegrained_fact_verification", "math_word_problem_generation" }) {
        for (const char * model : { "gpt-4-0613", "Llama-2-70b-chat-hf" }) {
            auto r = import_file(tmp + "/data/" + task + "/" + model + ".jsonl", params(), false);
            ASSERT_TRUE(r.ok()) << r.error().to_string();
            EXPECT_EQ(r->rows_by_shape.at("single"), r->rows);
            for (auto & im : r->samples) got.push_back(std::move(im));
        }
    }
    std::filesystem::remove_all(tmp);
    ASSERT_EQ(got.size(), expected->size());
    ASSERT_EQ(got.size(), 900u);
    for (size_t i = 0; i < got.size(); i++) {
        ASSERT_EQ(got[i].sample.label, (*expected)[i].label) << i;
        ASSERT_EQ(got[i].sample.responses, (*expected)[i].responses) << i;
        ASSERT_EQ(got[i].sample.query(), (*expected)[i].query()) << i;
    }
}

TEST(DataImport, CommandWritesWholeOutputOrNone) {
    const std::string out = test::temp_dir() + "/imported.jsonl";
    auto              ok  = test::run_grm("data import " + k_fixture + " -o " + out);
    ASSERT_EQ(ok.code, 0) << ok.out;
    EXPECT_NE(ok.out.find("17 rows (listwise 2, pairwise 4, ratings 5, single 3, strength 3) -> 12 samples; dropped 2 (tie 1, tie at the top 1); malformed 0"),
              std::string::npos)
        << ok.out;
    auto back = read_samples_jsonl(out);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->samples.size(), 12u);
    EXPECT_EQ(back->samples[8].ratings, (std::vector<int>{ 6, 10, 1 }));

    const std::string bad  = write("bad-cli.jsonl", "{\"prompt\": \"q\", \"chosen\": 3, \"rejected\": \"b\"}\n");
    const std::string none = test::temp_dir() + "/none.jsonl";
    auto              err  = test::run_grm("data import " + bad + " -o " + none);
    EXPECT_EQ(err.code, 2) << err.out;
    EXPECT_NE(err.out.find("bad-cli.jsonl:1: field 'chosen'"), std::string::npos) << err.out;
    EXPECT_FALSE(std::filesystem::exists(none));
    auto skip = test::run_grm("data import " + bad + " " + k_fixture + " --skip-bad -o " + none);
    EXPECT_EQ(skip.code, 0) << skip.out;
    EXPECT_NE(skip.out.find("-> 0 samples; dropped 0; malformed 1"), std::string::npos) << skip.out;
    EXPECT_NE(skip.out.find("12 samples -> "), std::string::npos) << skip.out;
}

}  // namespace
}  // namespace grm::data
