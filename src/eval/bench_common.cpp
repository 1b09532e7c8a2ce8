// Benchmark data location, tie credit and prediction extraction.
#include "eval/bench_common.h"

#include "core/vote.h"
#include "eval/metrics.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

namespace grm {

std::string default_benchmarks_dir() {
    if (const char * env = std::getenv("GRM_BENCHMARKS_DIR"); env && *env) return env;
    return std::string(GRM_SOURCE_DIR) + "/../shared/benchmarks";
}

double win_credit(const std::vector<double> & rewards, int n, int target, TiePolicy tie, uint64_t seed) {
    std::vector<double> r = rewards.empty() ? std::vector<double>(n, 0.0) : rewards;
    double              top = r[target];
    int                 tied = 0;
    for (int i = 0; i < (int) r.size(); i++) {
        if (r[i] > top) return 0.0;
        if (r[i] == top) tied++;
    }
    if (tied == 1) return 1.0;
    switch (tie) {
        case TiePolicy::wrong: return 0.0;
        case TiePolicy::half: return 1.0 / tied;
        case TiePolicy::random: return random_tiebreak_argmax(r, seed) == target ? 1.0 : 0.0;
    }
    return 0.0;
}

std::vector<BenchPrediction> predictions_at(const std::vector<EvalRecord> & records, int k, uint64_t seed) {
    std::vector<BenchPrediction> out;
    for (const EvalRecord & r : records) {
        if (!r.skipped.empty()) continue;
        VotedItem       v = vote_record(r, k);
        BenchPrediction p;
        p.truth    = &r.truth;
        p.rewards  = v.rewards;
        p.n_voted  = v.n_voted;
        p.tie_seed = tie_seed(seed, r.truth.id, k);
        out.push_back(std::move(p));
    }
    return out;
}

Result<nlohmann::json> read_json_file(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::not_found, "cannot read " + path);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return make_error(Errc::invalid_argument, path + ": not valid JSON");
    return j;
}

std::string id_group(const std::string & id) {
    size_t a = id.find('/'), b = id.rfind('/');
    if (a == std::string::npos || b == a) return "";
    return id.substr(a + 1, b - a - 1);
}

}  // namespace grm
