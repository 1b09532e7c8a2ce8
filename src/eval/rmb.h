// RMB (helpfulness and harmlessness; pairwise and best-of-N): loader and official metric.
#pragma once

#include "core/error.h"
#include "core/sample.h"
#include "eval/bench_common.h"

#include <map>
#include <string>
#include <vector>

namespace grm {

// Pairwise items -> n = 2 (chosen first), best-of-N items -> n = 1 + losers (bon_best first);
// multi-turn conversations are kept. id "rmb/<category_path>/<uid>" (the category path names the
// source file, e.g. "Pairwise_set/Helpfulness/Chat/Discussion"); domain = "<set>/<Helpfulness|Harmlessness>".
Result<std::vector<Sample>> load_rmb(const std::string & benchmarks_dir);

struct RmbExample {
    std::string category_path;  // "Pairwise_set/..." or "BoN_set/..."
    double      credit = 0.0;   // pairwise: chosen > rejected; best-of-N: best > every loser
};

struct RmbScores {
    std::map<std::string, double> per_file;  // accuracy per category path
    std::map<std::string, double> groups;    // "Helpfulness pairwise", ... : mean over that group's files
    double                        overall = 0.0;  // mean of the groups present (all four in the paper)
};

RmbScores rmb_scores(const std::vector<RmbExample> & examples);

// The official pairwise rule on scalar rewards: correct iff chosen > rejected (a tie is wrong).
inline double rmb_pair_credit(double chosen, double rejected) { return chosen > rejected ? 1.0 : 0.0; }

std::vector<RmbExample> rmb_examples(const std::vector<BenchPrediction> & predictions, TiePolicy tie);

}  // namespace grm
