// Benchmark dispatch and the official-metric report tables.
#include "eval/benchmarks.h"

#include "eval/bench_common.h"
#include "eval/realmistake.h"
#include "eval/rewardbench.h"
#include "eval/rm_bench.h"
#include "eval/rmb.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace grm {

const std::vector<std::string> & benchmark_names() {
    static const std::vector<std::string> names = { "rewardbench", "rmb", "rm-bench", "realmistake" };
    return names;
}

Result<std::vector<Sample>> load_benchmark(const std::string & name, const std::string & dir) {
    if (name == "rewardbench") return load_rewardbench(dir);
    if (name == "rmb") return load_rmb(dir);
    if (name == "rm-bench") return load_rm_bench(dir);
    if (name == "realmistake") return load_realmistake(dir);
    std::string known;
    for (const std::string & n : benchmark_names()) known += (known.empty() ? "" : ", ") + n;
    return make_error(Errc::invalid_argument, "unknown benchmark '" + name + "' (known: " + known + ")");
}

namespace {

std::string pct(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", 100.0 * x);
    return buf;
}

struct Setting {
    std::string                  name;
    std::vector<BenchPrediction> predictions;
};

std::vector<Setting> settings(const std::vector<EvalRecord> & sampled, const std::vector<EvalRecord> * greedy,
                              const std::vector<int> & ks, uint64_t seed) {
    std::vector<Setting> out;
    if (greedy) out.push_back({ "greedy", predictions_at(*greedy, 1, seed) });
    int K = 0;
    for (const EvalRecord & r : sampled) K = std::max(K, (int) r.trajectories.size());
    for (int k : ks) {
        if (k >= 1 && k <= K) out.push_back({ "voting@" + std::to_string(k), predictions_at(sampled, k, seed) });
    }
    return out;
}

void rewardbench_table(std::ostringstream & md, const std::vector<Setting> & ss) {
    md << "Section scores weight subsets by example count (math-prm as 984); overall = mean of the four "
          "sections. Cells break ties at random; the last two columns count a tie as 1/2 (the official "
          "generative-judge rule) and as wrong (the classifier rule).\n\n"
          "| setting | Chat | Chat Hard | Safety | Reasoning | overall | overall (tie 1/2) | overall (tie wrong) |\n"
          "|---|---|---|---|---|---|---|---|\n";
    for (const Setting & s : ss) {
        RewardBenchScores r = rewardbench_scores(rewardbench_examples(s.predictions, TiePolicy::random));
        RewardBenchScores h = rewardbench_scores(rewardbench_examples(s.predictions, TiePolicy::half));
        RewardBenchScores w = rewardbench_scores(rewardbench_examples(s.predictions, TiePolicy::wrong));
        md << "| " << s.name;
        for (const auto & [section, subsets] : rewardbench_sections()) {
            auto it = r.sections.find(section);
            md << " | " << (it == r.sections.end() ? "-" : pct(it->second));
        }
        md << " | " << pct(r.overall) << " | " << pct(h.overall) << " | " << pct(w.overall) << " |\n";
    }
}

void rmb_table(std::ostringstream & md, const std::vector<Setting> & ss) {
    static const char * groups[] = { "Helpfulness best-of-N", "Helpfulness pairwise", "Harmlessness best-of-N",
                                     "Harmlessness pairwise" };
    md << "Accuracy per source file, averaged within each group; overall = mean of the four groups (as in "
          "the DeepSeek-GRM paper). A best-of-N item is right iff its best response beats every loser. "
          "Ties broken at random; the last column counts them wrong (the official scalar-RM rule). Three "
          "pairwise files are absent from the snapshot (see the benchmark's MANIFEST.md).\n\n"
          "| setting | Help BoN | Help pairwise | Harm BoN | Harm pairwise | overall | overall (tie wrong) |\n"
          "|---|---|---|---|---|---|---|\n";
    for (const Setting & s : ss) {
        RmbScores r = rmb_scores(rmb_examples(s.predictions, TiePolicy::random));
        RmbScores w = rmb_scores(rmb_examples(s.predictions, TiePolicy::wrong));
        md << "| " << s.name;
        for (const char * g : groups) {
            auto it = r.groups.find(g);
            md << " | " << (it == r.groups.end() ? "-" : pct(it->second));
        }
        md << " | " << pct(r.overall) << " | " << pct(w.overall) << " |\n";
    }
}

void rm_bench_table(std::ostringstream & md, const std::vector<Setting> & ss) {
    md << "Per prompt, the 3x3 matrix of chosen style vs rejected style; hard = chosen plainer than "
          "rejected (upper right), normal = same style, easy = chosen fancier; averaged over domains "
          "(chat, code, safety; math is absent from the snapshot). Ties broken at random.\n\n"
          "| setting | prompts | chat | code | safety | hard | normal | easy | avg |\n|---|---|---|---|---|---|---|---|---|\n";
    for (const Setting & s : ss) {
        auto          prompts = rm_bench_prompts(s.predictions, TiePolicy::random);
        RmBenchScores r       = rm_bench_scores(prompts);
        md << "| " << s.name << " | " << prompts.size();
        for (const char * d : { "chat", "code", "safety" }) {
            auto it = r.domains.find(d);
            md << " | " << (it == r.domains.end() ? "-" : pct(it->second.avg));
        }
        md << " | " << pct(r.overall.hard) << " | " << pct(r.overall.normal) << " | " << pct(r.overall.easy) << " | "
           << pct(r.overall.avg) << " |\n";
    }
}

void realmistake_table(std::ostringstream & md, const std::vector<Setting> & ss) {
    md << "\"error\" is the positive class; a mean score below 6 predicts an error, no scorable sample is an "
          "invalid prediction (wrong, and neither class). ROC-AUC is of the mean score, the number the "
          "DeepSeek-GRM paper reports.\n\n"
          "| setting | items | accuracy | precision | recall | F1 | ROC-AUC | invalid |\n|---|---|---|---|---|---|---|---|\n";
    for (const Setting & s : ss) {
        auto               ex = realmistake_examples(s.predictions);
        RealMistakeMetrics m  = realmistake_metrics(ex);
        int                unscored = 0;
        auto               auc      = realmistake_auc(s.predictions, &unscored);
        char               auc_s[32] = "-";
        if (auc) std::snprintf(auc_s, sizeof auc_s, "%.3f", *auc);
        md << "| " << s.name << " | " << m.total << " | " << pct(m.accuracy) << " | " << pct(m.precision) << " | "
           << pct(m.recall) << " | " << pct(m.f1) << " | " << auc_s << " | " << unscored << " |\n";
    }
}

}  // namespace

std::string official_report(const std::string & name, const std::vector<EvalRecord> & sampled,
                            const std::vector<EvalRecord> * greedy, const std::vector<int> & ks, uint64_t seed) {
    std::ostringstream md;
    md << "## Official metric: " << name << "\n\n";
    auto ss = settings(sampled, greedy, ks, seed);
    if (name == "rewardbench") rewardbench_table(md, ss);
    else if (name == "rmb") rmb_table(md, ss);
    else if (name == "rm-bench") rm_bench_table(md, ss);
    else if (name == "realmistake") realmistake_table(md, ss);
    else md << "(no official metric for '" << name << "')\n";
    md << "\n";
    return md.str();
}

}  // namespace grm
