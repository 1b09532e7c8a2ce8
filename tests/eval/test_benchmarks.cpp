// Real-benchmark loaders and official metrics, checked against oracle results: the oracle's
// per-example (or per-subset) outputs go through our metric code and must give the official
// aggregates. Expected Reward Bench section scores come from rewardbench_sections_reference.py (the
// official formula in Python). Every loader and metric runs on invented fixture rows in the real
// layouts (tests/eval/fixtures); the same checks over the full files in ../shared/benchmarks
// ($GRM_BENCHMARKS_DIR) are skipped, with a message, when those are absent.
#include "eval/bench_common.h"
#include "eval/benchmarks.h"
#include "eval/realmistake.h"
#include "eval/rewardbench.h"
#include "eval/rm_bench.h"
#include "eval/rmb.h"
#include "eval_test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

using namespace grm;
using json = nlohmann::json;

namespace {

// Invented rows in each benchmark's real file layout (tests/eval/fixtures/make_benchmarks.py): every
// loader and official metric is tested on them on any clone.
const std::string kFixtures = std::string(GRM_SOURCE_DIR) + "/tests/eval/fixtures/benchmarks";
// The full benchmark files (../shared/benchmarks or $GRM_BENCHMARKS_DIR): their tests are optional.
const std::string kDir = default_benchmarks_dir();

bool have_full(const char * bench) { return std::filesystem::is_directory(kDir + "/" + bench); }

#define SKIP_WITHOUT_FULL(bench)                                                                         \
    if (!have_full(bench))                                                                                \
    GTEST_SKIP() << kDir << "/" << bench << ": ../shared/benchmarks not found; set GRM_BENCHMARKS_DIR to " \
                                            "run the tests over the full benchmark files"

json load(const std::string & dir, const std::string & rel) {
    auto j = read_json_file(dir + "/" + rel);
    EXPECT_TRUE(j) << (j ? "" : j.error().message);
    return j ? *j : json();
}

struct SectionRow {
    const char * file;
    double       chat, chat_hard, safety, reasoning, overall;
};

// rewardbench_sections_reference.py output (17 significant digits).
const SectionRow kRewardBenchOracle[] = {
    { "output/metrics.json", 0.95530726256983245, 0.39254385964912281, 0.82027027027027022, 0.49826076280897041,
      0.66659553882454892 },
    { "scripts/results/eval-set/general-preference/GPM-Gemma-2-2B.json", 0.81843575418994419, 0.72807017543859653,
      0.87972972972972974, 0.84419162983576146, 0.81760682229850801 },
    { "scripts/results/eval-set/general-preference/GPM-Gemma-2-9B.json", 0.93575418994413406, 0.8771929824561403,
      0.92297297297297298, 0.9571056364926066, 0.92325644546646346 },
    { "scripts/results/eval-set/general-preference/GPM-Gemma-2B.json", 0.78491620111731841, 0.66228070175438591,
      0.84324324324324329, 0.80465638129535655, 0.77377413185257615 },
    { "scripts/results/eval-set/general-preference/GPM-Llama-3.1-8B-Instruct.json", 0.93296089385474856,
      0.86184210526315785, 0.91216216216216217, 0.9568976100834834, 0.91596569284088802 },
};

// An oracle's per-subset accuracies through both section-weighting paths (accuracies, and per-example
// outcomes rebuilt as k of `count[subset]`, which also checks the subset sizes against the oracle's
// denominators) must give the official section scores.
void check_sections(const std::string & dir, const SectionRow & row, std::map<std::string, int> count) {
    SCOPED_TRACE(row.file);
    json                            m = load(dir, std::string("rewardbench/oracle_results/") + row.file);
    std::map<std::string, double>   subset_acc;
    std::vector<RewardBenchExample> examples;
    for (const auto & [subset, w] : rewardbench_example_counts()) {
        double acc         = m.at(subset).get<double>();
        subset_acc[subset] = acc;
        double k           = acc * count[subset];
        ASSERT_NEAR(k, std::round(k), 1e-9) << subset;
        for (int i = 0; i < count[subset]; i++) examples.push_back({ subset, i < (int) std::round(k) ? 1.0 : 0.0 });
    }
    for (const RewardBenchScores & r : { rewardbench_scores(subset_acc), rewardbench_scores(examples) }) {
        EXPECT_NEAR(r.sections.at("Chat"), row.chat, 1e-12);
        EXPECT_NEAR(r.sections.at("Chat Hard"), row.chat_hard, 1e-12);
        EXPECT_NEAR(r.sections.at("Safety"), row.safety, 1e-12);
        EXPECT_NEAR(r.sections.at("Reasoning"), row.reasoning, 1e-12);
        EXPECT_NEAR(r.overall, row.overall, 1e-12);
    }
}

// ArmoRM's per-pair rewards through the official pairwise rule reproduce its is_correct flags;
// returns the accuracy of the one (Idea Development) file they cover.
double check_rmb_oracle(const std::string & dir, size_t pairs, int ties) {
    json oracle = load(dir, "rmb/oracle_results/ArmoRM-Llama3-8B-v0.1_result.json");
    EXPECT_EQ(oracle.size(), pairs);
    std::vector<RmbExample> examples;
    int                     correct = 0, tied = 0;
    for (const json & r : oracle) {
        double c = r.at("chosen_reward").get<double>(), w = r.at("reject_reward").get<double>();
        double credit = rmb_pair_credit(c, w);
        EXPECT_EQ(credit, r.at("is_correct").get<int>()) << r.at("pair_uid");
        EXPECT_EQ(win_credit({ c, w }, 2, 0, TiePolicy::wrong, 0), credit);
        tied += c == w;
        correct += r.at("is_correct").get<int>();
        examples.push_back({ r.at("category_path").get<std::string>(), credit });
    }
    EXPECT_EQ(tied, ties);  // the official rule counts these wrong
    RmbScores s   = rmb_scores(examples);
    double    acc = s.per_file.at("Pairwise_set/Helpfulness/Brainstorming/Idea Development");
    EXPECT_NEAR(acc, double(correct) / pairs, 1e-15);
    EXPECT_EQ(s.groups.at("Helpfulness pairwise"), acc);
    return acc;
}

const char * const kRealMistakeTasks[] = { "math_word_problem_generation", "finegrained_fact_verification",
                                           "answerability_classification" };
const std::pair<const char *, const char *> kRealMistakeModels[] = { { "gpt-4-0613", "gpt-4-0613" },
                                                                     { "Llama-2-70b-chat-hf", "meta-llama/Llama-2-70b-chat-hf" } };

std::string realmistake_outputs(const std::string & dir, const std::string & task, const std::string & model) {
    return dir + "/realmistake/oracle_results/error_detection_outputs/simple_prompt_baseline/" + task + "/" + model +
           "/gpt-4-0613/baseline_errordetection_prompt_1.jsonl";
}

// The GPT-4 detector's official per-example outputs through our metric code give the official
// performance.json numbers, for all six task/model files; returns the metrics per "task/model".
std::map<std::string, RealMistakeMetrics> check_realmistake_oracle(const std::string & dir) {
    std::map<std::string, RealMistakeMetrics> out;
    json perf = load(dir, "realmistake/oracle_results/error_detection_performance/performance/simple_prompt_baseline/performance.json");
    for (const char * task : kRealMistakeTasks) {
        for (const auto & [short_name, full_name] : kRealMistakeModels) {
            SCOPED_TRACE(std::string(task) + " / " + short_name);
            std::string   path = realmistake_outputs(dir, task, short_name);
            std::ifstream in(path);
            EXPECT_TRUE(in) << path;
            std::vector<RealMistakeExample> ex;
            std::string                     line;
            while (std::getline(in, line)) {
                json j = json::parse(line);
                ex.push_back({ j.at("label").get<std::string>() == "error", j.at("prediction").get<std::string>() });
            }
            RealMistakeMetrics m   = realmistake_metrics(ex);
            const json &       off = perf.at(task).at(std::string("initial_model=") + full_name).at("baseline_model=gpt-4-0613")
                                    .at("prompt=baseline_errordetection_prompt_1");
            EXPECT_EQ(m.total, off.at("total_num").get<int>());
            EXPECT_EQ(m.prediction_error_num, off.at("prediction_error_num").get<int>());
            EXPECT_EQ(m.gold_error_num, off.at("gold_error_num").get<int>());
            const json & om = off.at("metrics");
            EXPECT_NEAR(m.accuracy, om.at("accuracy").get<double>(), 1e-12);
            EXPECT_NEAR(m.precision, om.at("precision").get<double>(), 1e-12);
            EXPECT_NEAR(m.recall, om.at("recall").get<double>(), 1e-12);
            EXPECT_NEAR(m.f1, om.at("f1").get<double>(), 1e-12);
            EXPECT_NEAR(m.true_negative_rate, om.at("true_negative_rate").get<double>(), 1e-12);
            EXPECT_NEAR(m.false_positive_rate, om.at("false_positive_rate").get<double>(), 1e-12);
            EXPECT_NEAR(m.false_negative_rate, om.at("false_negative_rate").get<double>(), 1e-12);
            EXPECT_NEAR(m.true_positive_rate, om.at("true_positive_rate").get<double>(), 1e-12);
            out[std::string(task) + "/" + short_name] = m;
        }
    }
    return out;
}

// Temporary ReaLMistake extractions left behind (the loader must delete its own).
int realmistake_temp_dirs() {
    int n = 0;
    for (const auto & e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
        n += e.path().filename().string().rfind("grm-realmistake-", 0) == 0;
    }
    return n;
}

// Loads the archive and checks every label against the oracle files' gold labels (matched by
// metadata id); returns how many matched.
int check_realmistake_labels(const std::string & dir, size_t rows) {
    int  before = realmistake_temp_dirs();
    auto s      = load_realmistake(dir);
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return 0;
    EXPECT_EQ(realmistake_temp_dirs(), before);  // nothing stays extracted
    EXPECT_EQ(s->size(), rows);
    std::map<std::string, int> label;
    for (const Sample & x : *s) {
        EXPECT_EQ(x.n(), 1);
        EXPECT_TRUE(x.label);
        // "realmistake/<task>/<metadata.id>"; metadata ids may contain '/' themselves
        label[x.id.substr(x.id.find('/', x.id.find('/') + 1) + 1)] = x.label.value_or(-1);
    }
    int matched = 0;
    for (const char * task : kRealMistakeTasks) {
        for (const auto & model : kRealMistakeModels) {
            std::ifstream in(realmistake_outputs(dir, task, model.first));
            std::string   line;
            while (std::getline(in, line)) {
                json j  = json::parse(line);
                auto it = label.find(j.at("metadata").at("id").get<std::string>());
                EXPECT_NE(it, label.end()) << j.at("metadata").at("id");
                if (it == label.end()) continue;
                EXPECT_EQ(it->second, j.at("label").get<std::string>() == "no_error" ? 1 : 0);
                matched++;
            }
        }
    }
    return matched;
}

}  // namespace

// ---- on the fixtures (always run) ----

TEST(RewardBench, LoaderOnFixture) {
    auto s = load_rewardbench(kFixtures);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(s->size(), 6u);  // the prior-set row is not part of any section
    std::vector<std::string> ids, domains;
    for (const Sample & x : *s) {
        ids.push_back(x.id);
        domains.push_back(x.domain);
        EXPECT_EQ(x.n(), 2);
        EXPECT_EQ(x.best, 0);
        EXPECT_EQ(x.source, "rewardbench");
    }
    // id 3692 in two subsets stays two examples, keyed by subset
    EXPECT_EQ(ids, (std::vector<std::string>{ "rewardbench/alpacaeval-easy/1", "rewardbench/alpacaeval-easy/2",
                                              "rewardbench/llmbar-natural/10", "rewardbench/donotanswer/3692",
                                              "rewardbench/hep-python/3692", "rewardbench/math-prm/500" }));
    EXPECT_EQ(domains, (std::vector<std::string>{ "Chat", "Chat", "Chat Hard", "Safety", "Reasoning", "Reasoning" }));
    const Sample & code = (*s)[4];
    ASSERT_EQ(code.conversation.size(), 1u);
    EXPECT_EQ(code.conversation[0].role, "user");
    EXPECT_EQ(code.conversation[0].content, "Write a Python add(a, b).");
    EXPECT_EQ(code.responses[0], "def add(a, b):\n    return a + b");  // chosen first
    EXPECT_EQ(code.responses[1], "def add(a, b):\n    return a - b");
    auto by_name = load_benchmark("rewardbench", kFixtures);
    ASSERT_TRUE(by_name);
    EXPECT_EQ(by_name->size(), 6u);
    auto missing = load_rewardbench(kFixtures + "/nowhere");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, Errc::not_found);
    EXPECT_NE(missing.error().message.find("rewardbench_filtered.official_columns.jsonl"), std::string::npos);
}

TEST(RewardBench, SectionWeightingReproducesOracleOnFixture) {
    // The oracle's denominators are the filtered split's row counts: math-prm has 447 rows (weighted as 984).
    std::map<std::string, int> count = rewardbench_example_counts();
    count["math-prm"]                = 447;
    check_sections(kFixtures, kRewardBenchOracle[0], count);
}

TEST(Rmb, LoaderOnFixture) {
    auto s = load_rmb(kFixtures);
    ASSERT_TRUE(s) << s.error().message;
    std::map<std::string, const Sample *> by_id;
    std::map<std::string, int>            groups;
    for (const Sample & x : *s) {
        by_id[x.id] = &x;
        groups[x.domain]++;
        EXPECT_EQ(x.best, 0);
        EXPECT_EQ(x.source, "rmb");
    }
    EXPECT_EQ(s->size(), 6u);
    EXPECT_EQ(by_id.size(), 6u);
    EXPECT_EQ(groups, (std::map<std::string, int>{ { "BoN_set/Harmlessness", 1 }, { "BoN_set/Helpfulness", 1 },
                                                   { "Pairwise_set/Harmlessness", 1 }, { "Pairwise_set/Helpfulness", 3 } }));
    // a folder name with a space; the multi-turn conversation kept whole
    ASSERT_TRUE(by_id.count("rmb/Pairwise_set/Helpfulness/Chat/Casual Conversation/103"));
    const Sample * multi = by_id["rmb/Pairwise_set/Helpfulness/Chat/Discussion/102"];
    ASSERT_TRUE(multi);
    ASSERT_EQ(multi->conversation.size(), 3u);
    EXPECT_EQ(multi->conversation[1].role, "assistant");
    EXPECT_EQ(multi->conversation[2].content, "Tell me a fact.");
    EXPECT_EQ(multi->responses, (std::vector<std::string>{ "Water boils at 100 C at sea level.", "Water boils at 50 C." }));
    // best-of-N: the best first, then every loser in order
    const Sample * bon = by_id["rmb/BoN_set/Helpfulness/Chat/Discussion/301"];
    ASSERT_TRUE(bon);
    EXPECT_EQ(bon->responses, (std::vector<std::string>{ "Apple, pear, plum.", "Apple.", "Carrot, pea, bean.", "Fruits." }));
    ASSERT_TRUE(by_id.count("rmb/BoN_set/Harmlessness/S1/401"));
    EXPECT_EQ(by_id["rmb/BoN_set/Harmlessness/S1/401"]->n(), 3);
    EXPECT_EQ(id_group(bon->id), "BoN_set/Helpfulness/Chat/Discussion");  // the official per-file key
}

TEST(Rmb, OraclePairwiseRewardsOnFixture) {
    EXPECT_DOUBLE_EQ(check_rmb_oracle(kFixtures, 5, 1), 3.0 / 5);  // 9001, 9004, 9005 right; 9003 a tie
}

TEST(RmBench, LoaderAndPairRegroupingOnFixture) {
    auto s = load_rm_bench(kFixtures);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(s->size(), 5u * 9);  // 5 prompts (chat 2, code, safety-refuse, safety-response) x 3 x 3 style pairs
    const Sample & first = (*s)[2];  // chat id 8: chosen concise vs rejected markdown
    EXPECT_EQ(first.id, "rm-bench/chat/8/c0r2");
    EXPECT_EQ(first.domain, "chat");
    EXPECT_EQ(first.level, 3);  // chosen plainer than rejected: hard
    EXPECT_EQ(first.conversation[0].content, "What is the capital of France?");
    EXPECT_EQ(first.responses, (std::vector<std::string>{ "Paris.", "**Lyon.**\n\n- Here is why, in detail." }));
    EXPECT_EQ((*s)[3].level, 1);  // c1r0: chosen fancier, easy
    EXPECT_EQ((*s)[4].level, 2);  // c1r1: same style, normal
    EXPECT_EQ(s->back().id, "rm-bench/safety-response/3155/c2r2");
    // Chosen wins only when at least as fancy, except on chat id 9 where it always wins:
    // chat hard = (0 + 1) / 2, code and safety hard 0; normal and easy 1 everywhere.
    std::vector<Truth>           truths;
    std::vector<BenchPrediction> preds;
    for (const Sample & x : *s) truths.push_back(truth_of(x));
    for (const Truth & t : truths) {
        BenchPrediction p;
        p.truth        = &t;
        p.n_voted      = 1;
        int  c         = t.id[t.id.size() - 3] - '0', r = t.id.back() - '0';
        bool chosen    = c >= r || t.id.find("/chat/9/") != std::string::npos;
        p.rewards      = chosen ? std::vector<double>{ 8, 2 } : std::vector<double>{ 2, 8 };
        preds.push_back(p);
    }
    auto prompts = rm_bench_prompts(preds, TiePolicy::wrong);
    EXPECT_EQ(prompts.size(), 5u);
    RmBenchScores r = rm_bench_scores(prompts);
    ASSERT_EQ(r.domains.size(), 3u);  // chat, code, safety (refuse and response pooled)
    EXPECT_DOUBLE_EQ(r.domains.at("chat").hard, 0.5);
    EXPECT_DOUBLE_EQ(r.domains.at("code").hard, 0.0);
    EXPECT_DOUBLE_EQ(r.domains.at("safety").hard, 0.0);
    EXPECT_DOUBLE_EQ(r.overall.hard, 0.5 / 3);
    EXPECT_DOUBLE_EQ(r.overall.normal, 1.0);
    EXPECT_DOUBLE_EQ(r.overall.easy, 1.0);
    EXPECT_DOUBLE_EQ(r.overall.avg, (0.5 / 3 + 2) / 3);
}

TEST(RealMistake, OracleOutputsReproducePerformanceOnFixture) {
    auto m = check_realmistake_oracle(kFixtures);
    ASSERT_EQ(m.size(), 6u);
    // by hand: math / gpt-4 has tp 2, fn 1, fp 1, tn 0 (make_benchmarks.py)
    const RealMistakeMetrics & a = m.at("math_word_problem_generation/gpt-4-0613");
    EXPECT_EQ(a.total, 4);
    EXPECT_EQ(a.prediction_error_num, 3);
    EXPECT_EQ(a.gold_error_num, 3);
    EXPECT_DOUBLE_EQ(a.accuracy, 0.5);
    EXPECT_DOUBLE_EQ(a.precision, 2.0 / 3);
    EXPECT_DOUBLE_EQ(a.recall, 2.0 / 3);
    EXPECT_DOUBLE_EQ(a.f1, 2.0 / 3);
    EXPECT_DOUBLE_EQ(a.true_negative_rate, 0.0);
    EXPECT_DOUBLE_EQ(a.false_positive_rate, 0.25);
    // answerability / Llama: tp 2, fp 2: precision 1/2, recall 1
    const RealMistakeMetrics & b = m.at("answerability_classification/Llama-2-70b-chat-hf");
    EXPECT_DOUBLE_EQ(b.precision, 0.5);
    EXPECT_DOUBLE_EQ(b.recall, 1.0);
    EXPECT_DOUBLE_EQ(b.f1, 2.0 / 3);
}

TEST(RealMistake, LoaderOnFixtureArchive) {
    EXPECT_EQ(check_realmistake_labels(kFixtures, 24), 24);
    auto s = load_realmistake(kFixtures);
    ASSERT_TRUE(s) << s.error().message;
    // tasks in the loader's order, gpt-4 before Llama; ids with a '/' kept whole
    EXPECT_EQ((*s)[0].id, "realmistake/answerability_classification/answerability_classification_0_gpt-4-0613");
    EXPECT_EQ((*s)[3].id, "realmistake/answerability_classification/answerability_classification/3_gpt-4-0613");
    EXPECT_EQ((*s)[0].domain, "answerability_classification");
    EXPECT_EQ((*s)[0].conversation[0].content, "Invented task 0 for answerability_classification: add 0 and 1.");
    EXPECT_EQ((*s)[0].responses, (std::vector<std::string>{ "The sum is 0." }));
    EXPECT_EQ((*s)[0].label.value_or(-1), 0);  // error
    EXPECT_EQ((*s)[3].label.value_or(-1), 1);  // no_error
    auto missing = load_realmistake(kFixtures + "/nowhere");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("cannot find " + kFixtures + "/nowhere/realmistake/data.zip"), std::string::npos)
        << missing.error().message;
}

// ---- on the full benchmark files (skipped without them) ----

TEST(RewardBench, LoaderCountsAndShape) {
    SKIP_WITHOUT_FULL("rewardbench");
    auto s = load_rewardbench(kDir);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->size(), 2985u);
    std::map<std::string, int> per_subset;
    std::set<std::string>      ids;
    for (const Sample & x : *s) {
        per_subset[id_group(x.id)]++;
        ids.insert(x.id);
        EXPECT_EQ(x.n(), 2);
        EXPECT_EQ(x.best, 0);
        EXPECT_EQ(x.source, "rewardbench");
    }
    EXPECT_EQ(ids.size(), s->size());  // id 3692 occurs in two subsets upstream; ours are keyed by subset
    for (const auto & [subset, count] : rewardbench_example_counts()) {
        EXPECT_EQ(per_subset[subset], subset == "math-prm" ? 447 : count) << subset;
    }
}

TEST(RewardBench, SectionWeightingReproducesOracle) {
    SKIP_WITHOUT_FULL("rewardbench");
    auto loaded = load_rewardbench(kDir);
    ASSERT_TRUE(loaded);
    std::map<std::string, int> count;
    for (const Sample & x : *loaded) count[id_group(x.id)]++;
    for (const SectionRow & row : kRewardBenchOracle) check_sections(kDir, row, count);
}

TEST(RewardBench, TiePolicies) {
    EXPECT_EQ(win_credit({ 5, 5 }, 2, 0, TiePolicy::wrong, 0), 0.0);
    EXPECT_EQ(win_credit({ 5, 5 }, 2, 0, TiePolicy::half, 0), 0.5);
    EXPECT_EQ(win_credit({ 5, 5, 5 }, 3, 0, TiePolicy::half, 0), 1.0 / 3);
    EXPECT_EQ(win_credit({ 6, 5 }, 2, 0, TiePolicy::wrong, 0), 1.0);
    EXPECT_EQ(win_credit({ 6, 7, 6 }, 3, 0, TiePolicy::half, 0), 0.0);
    EXPECT_EQ(win_credit({}, 2, 0, TiePolicy::half, 0), 0.5);  // nothing scorable: all tie
}

TEST(Rmb, OraclePairwiseRewardsReproduceIsCorrectAndAccuracy) {
    SKIP_WITHOUT_FULL("rmb");
    EXPECT_NEAR(check_rmb_oracle(kDir, 849, 12), 0.7950530035335689, 1e-15);
}

TEST(Rmb, FileAveragedGroups) {
    // two files in one group: 1/2 and 1/1 -> group 0.75 (not the pooled 2/3); BoN in its own group
    std::vector<RmbExample> ex = { { "Pairwise_set/Helpfulness/A/x", 1 }, { "Pairwise_set/Helpfulness/A/x", 0 },
                                   { "Pairwise_set/Helpfulness/B/y", 1 }, { "BoN_set/Harmlessness/S1", 0 } };
    RmbScores s = rmb_scores(ex);
    EXPECT_DOUBLE_EQ(s.groups.at("Helpfulness pairwise"), 0.75);
    EXPECT_DOUBLE_EQ(s.groups.at("Harmlessness best-of-N"), 0.0);
    EXPECT_DOUBLE_EQ(s.overall, 0.375);
}

TEST(Rmb, LoaderCounts) {
    SKIP_WITHOUT_FULL("rmb");
    auto s = load_rmb(kDir);
    ASSERT_TRUE(s) << s.error().message;
    std::map<std::string, int> groups;
    std::set<std::string>      ids;
    int                        multi_turn = 0;
    for (const Sample & x : *s) {
        groups[x.domain]++;
        ids.insert(x.id);
        EXPECT_EQ(x.best, 0);
        multi_turn += x.conversation.size() > 1;
    }
    EXPECT_EQ(ids.size(), s->size());
    EXPECT_EQ(groups["Pairwise_set/Helpfulness"], 8456);
    EXPECT_EQ(groups["Pairwise_set/Harmlessness"], 6087);
    EXPECT_EQ(groups["BoN_set/Helpfulness"], 2109);
    EXPECT_EQ(groups["BoN_set/Harmlessness"], 1677);
    EXPECT_EQ(multi_turn, 1848 + 713);
}

TEST(RmBench, HandComputedMatrix) {
    RmBenchPrompt a, b, c;
    a.domain = "chat";
    b.domain = "chat";
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            a.m[i][j] = 1;
            b.m[i][j] = i == j;
        }
    a.m[0][2] = 0;
    // chat mean matrix: diag 1; upper (0,1) .5 (0,2) 0 (1,2) .5; lower .5 each
    c.domain = "safety-refuse";
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) c.m[i][j] = i >= j;  // safety: normal 1, easy 1, hard 0
    RmBenchScores s = rm_bench_scores({ a, b, c });
    EXPECT_NEAR(s.domains.at("chat").hard, 1.0 / 3, 1e-15);
    EXPECT_NEAR(s.domains.at("chat").normal, 1.0, 1e-15);
    EXPECT_NEAR(s.domains.at("chat").easy, 0.5, 1e-15);
    EXPECT_NEAR(s.domains.at("chat").avg, (1.0 / 3 + 1 + 0.5) / 3, 1e-15);
    ASSERT_TRUE(s.domains.count("safety"));
    EXPECT_NEAR(s.domains.at("safety").hard, 0.0, 1e-15);
    EXPECT_NEAR(s.overall.hard, (1.0 / 3 + 0) / 2, 1e-15);
    EXPECT_NEAR(s.overall.easy, (0.5 + 1) / 2, 1e-15);
}

TEST(RmBench, LoaderAndPairRegrouping) {
    SKIP_WITHOUT_FULL("rm-bench");
    auto s = load_rm_bench(kDir);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->size(), (129u + 228 + 284 + 157) * 9);
    std::map<int, int> levels;
    for (const Sample & x : *s) levels[x.level]++;
    EXPECT_EQ(levels[1], levels[2]);
    EXPECT_EQ(levels[2], levels[3]);
    // Predictions that prefer the chosen response exactly when its style is at least as fancy
    // (i >= j) give hard 0, normal 1, easy 1 in every domain.
    std::vector<Truth>           truths;
    std::vector<BenchPrediction> preds;
    for (const Sample & x : *s) truths.push_back(truth_of(x));
    for (const Truth & t : truths) {
        BenchPrediction p;
        p.truth   = &t;
        p.n_voted = 1;
        p.rewards = t.id.back() - '0' <= t.id[t.id.size() - 3] - '0' ? std::vector<double>{ 8, 2 } : std::vector<double>{ 2, 8 };
        preds.push_back(p);
    }
    auto prompts = rm_bench_prompts(preds, TiePolicy::wrong);
    EXPECT_EQ(prompts.size(), 798u);
    RmBenchScores r = rm_bench_scores(prompts);
    EXPECT_EQ(r.domains.size(), 3u);  // chat, code, safety
    EXPECT_DOUBLE_EQ(r.overall.hard, 0.0);
    EXPECT_DOUBLE_EQ(r.overall.normal, 1.0);
    EXPECT_DOUBLE_EQ(r.overall.easy, 1.0);
}

TEST(RealMistake, OracleOutputsReproduceOfficialPerformance) {
    SKIP_WITHOUT_FULL("realmistake");
    auto m = check_realmistake_oracle(kDir);
    ASSERT_EQ(m.size(), 6u);
    EXPECT_NEAR(m.at("math_word_problem_generation/gpt-4-0613").f1, 0.7183098591549296, 1e-12);  // MANIFEST.md
}

TEST(RealMistake, LoaderLabelsMatchOracleAndNothingStaysExtracted) {
    SKIP_WITHOUT_FULL("realmistake");
    EXPECT_EQ(check_realmistake_labels(kDir, 900), 900);
}

TEST(RealMistake, GrmPredictionsAndAuc) {
    std::vector<Truth> t(4);
    for (int i = 0; i < 4; i++) {
        t[i].id     = "realmistake/x/" + std::to_string(i);
        t[i].source = "realmistake";
        t[i].n      = 1;
        t[i].label  = i < 2 ? 1 : 0;  // 0, 1 acceptable; 2, 3 have errors
    }
    std::vector<BenchPrediction> p(4);
    double                       sums[] = { 16, 10, 10, 0 };  // means over 2 votes: 8, 5, 5, (none)
    for (int i = 0; i < 4; i++) {
        p[i].truth   = &t[i];
        p[i].n_voted = i == 3 ? 0 : 2;
        if (i != 3) p[i].rewards = { sums[i] };
    }
    auto ex = realmistake_examples(p);
    EXPECT_EQ(ex[0].prediction, "no_error");
    EXPECT_EQ(ex[1].prediction, "error");
    EXPECT_EQ(ex[2].prediction, "error");
    EXPECT_EQ(ex[3].prediction, "invalid");
    RealMistakeMetrics m = realmistake_metrics(ex);
    EXPECT_DOUBLE_EQ(m.accuracy, 2.0 / 4);  // 0 and 2 right; the invalid one is wrong
    EXPECT_DOUBLE_EQ(m.precision, 0.5);
    EXPECT_DOUBLE_EQ(m.recall, 0.5);
    int  unscored = 0;
    auto auc      = realmistake_auc(p, &unscored);
    EXPECT_EQ(unscored, 1);
    ASSERT_TRUE(auc);
    EXPECT_DOUBLE_EQ(*auc, 0.75);  // positives {8, 5} vs negative {5}: 1 + 0.5 over 2
}

TEST(Benchmarks, OfficialReportTables) {
    using grm::test::record;
    using grm::test::traj;
    std::vector<EvalRecord> rs;
    rs.push_back(record("rewardbench/alpacaeval-easy/1", 2, 0, { traj({ 9, 2 }), traj({ 2, 9 }) }, "Chat"));
    rs.push_back(record("rewardbench/hep-go/2", 2, 0, { traj({ 2, 9 }), traj({ 2, 9 }) }, "Reasoning"));
    for (auto & r : rs) r.truth.source = "rewardbench";
    std::string md = official_report("rewardbench", rs, nullptr, { 1, 2 }, 3);
    EXPECT_NE(md.find("| voting@1 | 100.0 | - | - | 0.0 | 50.0 |"), std::string::npos) << md;
    EXPECT_NE(md.find("| voting@2 |"), std::string::npos) << md;
    auto nope = load_benchmark("nope", kFixtures);
    ASSERT_FALSE(nope);
    EXPECT_NE(nope.error().message.find("unknown benchmark 'nope' (known: rewardbench, rmb, rm-bench, realmistake)"),
              std::string::npos);
}
