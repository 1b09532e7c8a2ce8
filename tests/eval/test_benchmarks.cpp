// Real-benchmark loaders and official metrics, checked against the oracle_results shipped with
// the benchmarks: the oracle's per-example (or per-subset) outputs go through our metric code and
// must give the official aggregates. Expected Reward Bench section scores come from
// rewardbench_sections_reference.py (the official formula in Python) run on the same files.
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
#include <fstream>
#include <map>
#include <set>

using namespace grm;
using json = nlohmann::json;

namespace {

const std::string kDir = default_benchmarks_dir();

json load(const std::string & rel) {
    auto j = read_json_file(kDir + "/" + rel);
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

}  // namespace

TEST(RewardBench, LoaderCountsAndShape) {
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
    auto loaded = load_rewardbench(kDir);
    ASSERT_TRUE(loaded);
    std::map<std::string, int> count;
    for (const Sample & x : *loaded) count[id_group(x.id)]++;
    for (const SectionRow & row : kRewardBenchOracle) {
        json                          m = load(std::string("rewardbench/oracle_results/") + row.file);
        std::map<std::string, double> subset_acc;
        std::vector<RewardBenchExample> examples;
        for (const auto & [subset, w] : rewardbench_example_counts()) {
            double acc = m.at(subset).get<double>();
            subset_acc[subset] = acc;
            // The oracle accuracy is k / (examples in our loaded subset): rebuild the per-example
            // outcomes, which also checks the loader's subset sizes against the oracle's denominators.
            double k = acc * count[subset];
            ASSERT_NEAR(k, std::round(k), 1e-9) << row.file << " " << subset;
            for (int i = 0; i < count[subset]; i++) examples.push_back({ subset, i < (int) std::round(k) ? 1.0 : 0.0 });
        }
        for (const RewardBenchScores & r : { rewardbench_scores(subset_acc), rewardbench_scores(examples) }) {
            EXPECT_NEAR(r.sections.at("Chat"), row.chat, 1e-12) << row.file;
            EXPECT_NEAR(r.sections.at("Chat Hard"), row.chat_hard, 1e-12) << row.file;
            EXPECT_NEAR(r.sections.at("Safety"), row.safety, 1e-12) << row.file;
            EXPECT_NEAR(r.sections.at("Reasoning"), row.reasoning, 1e-12) << row.file;
            EXPECT_NEAR(r.overall, row.overall, 1e-12) << row.file;
        }
    }
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
    json oracle = load("rmb/oracle_results/ArmoRM-Llama3-8B-v0.1_result.json");
    ASSERT_EQ(oracle.size(), 849u);
    std::vector<RmbExample> examples;
    int                     correct = 0, ties = 0;
    for (const json & r : oracle) {
        double c = r.at("chosen_reward").get<double>(), w = r.at("reject_reward").get<double>();
        double credit = rmb_pair_credit(c, w);
        EXPECT_EQ(credit, r.at("is_correct").get<int>()) << r.at("pair_uid");
        EXPECT_EQ(win_credit({ c, w }, 2, 0, TiePolicy::wrong, 0), credit);
        ties += c == w;
        correct += r.at("is_correct").get<int>();
        examples.push_back({ r.at("category_path").get<std::string>(), credit });
    }
    EXPECT_EQ(ties, 12);  // the official rule counts these wrong
    RmbScores s = rmb_scores(examples);
    EXPECT_NEAR(s.per_file.at("Pairwise_set/Helpfulness/Brainstorming/Idea Development"), correct / 849.0, 1e-15);
    EXPECT_NEAR(s.groups.at("Helpfulness pairwise"), 0.7950530035335689, 1e-15);
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
    json perf = load("realmistake/oracle_results/error_detection_performance/performance/simple_prompt_baseline/performance.json");
    const std::pair<const char *, const char *> models[] = { { "gpt-4-0613", "gpt-4-0613" },
                                                             { "Llama-2-70b-chat-hf", "meta-llama/Llama-2-70b-chat-hf" } };
    int checked = 0;
    for (const char * task : { "math_word_problem_generation", "finegrained_fact_verification", "answerability_classification" }) {
        for (const auto & [short_name, full_name] : models) {
            std::string path = kDir + "/realmistake/oracle_results/error_detection_outputs/simple_prompt_baseline/" + task +
                               "/" + short_name + "/gpt-4-0613/baseline_errordetection_prompt_1.jsonl";
            std::ifstream                   in(path);
            ASSERT_TRUE(in) << path;
            std::vector<RealMistakeExample> ex;
            std::string                     line;
            while (std::getline(in, line)) {
                json j = json::parse(line);
                ex.push_back({ j.at("label").get<std::string>() == "error", j.at("prediction").get<std::string>() });
            }
            RealMistakeMetrics m   = realmistake_metrics(ex);
            const json &       off = perf.at(task).at(std::string("initial_model=") + full_name).at("baseline_model=gpt-4-0613")
                                    .at("prompt=baseline_errordetection_prompt_1");
            SCOPED_TRACE(std::string(task) + " / " + short_name);
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
            checked++;
        }
    }
    EXPECT_EQ(checked, 6);
}

TEST(RealMistake, LoaderLabelsMatchOracleAndNothingStaysExtracted) {
    auto s = load_realmistake(kDir);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->size(), 900u);
    std::map<std::string, int> label;
    for (const Sample & x : *s) {
        EXPECT_EQ(x.n(), 1);
        ASSERT_TRUE(x.label);
        // "realmistake/<task>/<metadata.id>"; metadata ids may contain '/' themselves
        label[x.id.substr(x.id.find('/', x.id.find('/') + 1) + 1)] = *x.label;
    }
    int matched = 0;
    for (const char * task : { "math_word_problem_generation", "finegrained_fact_verification", "answerability_classification" }) {
        for (const char * m : { "gpt-4-0613", "Llama-2-70b-chat-hf" }) {
            std::ifstream in(kDir + "/realmistake/oracle_results/error_detection_outputs/simple_prompt_baseline/" + task + "/" +
                             m + "/gpt-4-0613/baseline_errordetection_prompt_1.jsonl");
            std::string line;
            while (std::getline(in, line)) {
                json j  = json::parse(line);
                auto it = label.find(j.at("metadata").at("id").get<std::string>());
                ASSERT_NE(it, label.end());
                EXPECT_EQ(it->second, j.at("label").get<std::string>() == "no_error" ? 1 : 0);
                matched++;
            }
        }
    }
    EXPECT_EQ(matched, 900);
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
    EXPECT_FALSE(load_benchmark("nope", kDir));
}
