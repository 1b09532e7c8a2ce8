// Reward Bench loader and section weighting.
#include "eval/rewardbench.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

namespace grm {

const std::vector<std::pair<std::string, std::vector<std::string>>> & rewardbench_sections() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> s = {
        { "Chat", { "alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med" } },
        { "Chat Hard",
          { "mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst", "llmbar-adver-GPTOut",
            "llmbar-adver-manual" } },
        { "Safety",
          { "refusals-dangerous", "refusals-offensive", "xstest-should-refuse", "xstest-should-respond", "donotanswer" } },
        { "Reasoning", { "math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust" } },
    };
    return s;
}

const std::map<std::string, int> & rewardbench_example_counts() {
    static const std::map<std::string, int> c = {
        { "alpacaeval-easy", 100 },     { "alpacaeval-length", 95 },     { "alpacaeval-hard", 95 },
        { "mt-bench-easy", 28 },        { "mt-bench-med", 40 },          { "mt-bench-hard", 37 },
        { "math-prm", 984 },            { "refusals-dangerous", 100 },   { "refusals-offensive", 100 },
        { "llmbar-natural", 100 },      { "llmbar-adver-neighbor", 134 }, { "llmbar-adver-GPTInst", 92 },
        { "llmbar-adver-GPTOut", 47 },  { "llmbar-adver-manual", 46 },   { "xstest-should-refuse", 154 },
        { "xstest-should-respond", 250 }, { "donotanswer", 136 },        { "hep-cpp", 164 },
        { "hep-go", 164 },              { "hep-java", 164 },             { "hep-js", 164 },
        { "hep-python", 164 },          { "hep-rust", 164 },
    };
    return c;
}

Result<std::vector<Sample>> load_rewardbench(const std::string & dir) {
    const std::string path = dir + "/rewardbench/derived/rewardbench_filtered.official_columns.jsonl";
    std::ifstream     in(path);
    if (!in) return make_error(Errc::not_found, "cannot read " + path);
    std::map<std::string, std::string> section_of;
    for (const auto & [section, subsets] : rewardbench_sections()) {
        for (const std::string & s : subsets) section_of[s] = section;
    }
    std::vector<Sample>   out;
    std::set<std::string> ids;
    std::string           line;
    int                   lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        if (line.empty()) continue;
        auto where = path + ":" + std::to_string(lineno) + ": ";
        auto j     = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return make_error(Errc::invalid_argument, where + "not a JSON object");
        try {
            std::string subset = j.at("subset").get<std::string>();
            auto        it     = section_of.find(subset);
            if (it == section_of.end()) continue;  // a prior set: not part of the score
            Sample s;
            s.id     = "rewardbench/" + subset + "/" + j.at("id").dump();
            s.source = "rewardbench";
            s.domain = it->second;
            s.conversation.push_back({ "user", j.at("prompt").get<std::string>() });
            s.responses = { j.at("chosen").get<std::string>(), j.at("rejected").get<std::string>() };
            s.best      = 0;
            if (auto st = validate_sample(s); !st) return make_error(Errc::invalid_argument, where + st.error().message);
            if (!ids.insert(s.id).second) return make_error(Errc::invalid_argument, where + "duplicate " + s.id);
            out.push_back(std::move(s));
        } catch (const nlohmann::json::exception & e) {
            return make_error(Errc::invalid_argument, where + e.what());
        }
    }
    return out;
}

RewardBenchScores rewardbench_scores(const std::map<std::string, double> & subset_accuracy) {
    RewardBenchScores r;
    r.subsets = subset_accuracy;
    double sum = 0;
    int    n   = 0;
    for (const auto & [section, subsets] : rewardbench_sections()) {
        double weighted = 0, total = 0;
        for (const std::string & s : subsets) {
            auto it = subset_accuracy.find(s);
            if (it == subset_accuracy.end()) continue;
            int w = rewardbench_example_counts().at(s);
            weighted += it->second * w;
            total += w;
        }
        if (total == 0) continue;
        r.sections[section] = weighted / total;
        sum += weighted / total;
        n++;
    }
    r.overall = n ? sum / n : 0.0;
    return r;
}

RewardBenchScores rewardbench_scores(const std::vector<RewardBenchExample> & examples) {
    std::map<std::string, std::pair<double, int>> acc;
    for (const RewardBenchExample & e : examples) {
        acc[e.subset].first += e.credit;
        acc[e.subset].second += 1;
    }
    std::map<std::string, double> subset_accuracy;
    for (const auto & [s, v] : acc) subset_accuracy[s] = v.first / v.second;
    return rewardbench_scores(subset_accuracy);
}

std::vector<RewardBenchExample> rewardbench_examples(const std::vector<BenchPrediction> & predictions, TiePolicy tie) {
    std::vector<RewardBenchExample> out;
    for (const BenchPrediction & p : predictions) {
        if (p.truth->source != "rewardbench" || !p.truth->best) continue;
        out.push_back({ id_group(p.truth->id), win_credit(p.rewards, p.truth->n, *p.truth->best, tie, p.tie_seed) });
    }
    return out;
}

}  // namespace grm
