// Reward Bench (filtered split): loader and the official section-weighted score.
#pragma once

#include "core/error.h"
#include "core/sample.h"
#include "eval/bench_common.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace grm {

// The four sections and their subsets (the prior preference sets are not part of the score).
const std::vector<std::pair<std::string, std::vector<std::string>>> & rewardbench_sections();
// Per-subset weights: example counts, except math-prm, weighted as 984 so it counts like code.
const std::map<std::string, int> & rewardbench_example_counts();

// Pairs -> n = 2 samples with the chosen response first (best = 0); the harness shuffles positions.
// id "rewardbench/<subset>/<id>" (ids repeat across subsets upstream), domain = section.
Result<std::vector<Sample>> load_rewardbench(const std::string & benchmarks_dir);

struct RewardBenchScores {
    std::map<std::string, double> subsets;   // accuracy per subset
    std::map<std::string, double> sections;  // weighted by rewardbench_example_counts()
    double                        overall = 0.0;  // mean of the sections present
};

// calculate_scores_per_section: each section is the count-weighted mean of its subsets' accuracy
// over the subsets present; overall is the plain mean of the sections.
RewardBenchScores rewardbench_scores(const std::map<std::string, double> & subset_accuracy);

// From per-example credits (1 correct, 0 wrong, a fraction for a tie under TiePolicy::half).
struct RewardBenchExample {
    std::string subset;
    double      credit = 0.0;
};
RewardBenchScores rewardbench_scores(const std::vector<RewardBenchExample> & examples);

std::vector<RewardBenchExample> rewardbench_examples(const std::vector<BenchPrediction> & predictions, TiePolicy tie);

}  // namespace grm
