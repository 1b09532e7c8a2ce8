// RM-Bench (chat, code, safety; 3 chosen x 3 rejected styles per prompt): loader and the official
// hard / normal / easy accuracies of the style matrix.
#pragma once

#include "core/error.h"
#include "core/sample.h"
#include "eval/bench_common.h"

#include <array>
#include <map>
#include <string>
#include <vector>

namespace grm {

// Styles in file order: concise, detailed plain, detailed markdown.
constexpr int kRmBenchStyles = 3;

// Each prompt becomes 9 pairwise samples, one per (chosen style i, rejected style j), chosen
// first (best = 0): the official metric compares every chosen with every rejected response.
// id "rm-bench/<file domain>/<prompt id>/c<i>r<j>"; domain = the file's domain (chat, code,
// safety-refuse, safety-response); level = 1 easy (i > j), 2 normal (i == j), 3 hard (i < j).
Result<std::vector<Sample>> load_rm_bench(const std::string & benchmarks_dir);

// One prompt's matrix: m[i][j] = credit for chosen style i beating rejected style j.
struct RmBenchPrompt {
    std::string                                              domain;
    std::array<std::array<double, kRmBenchStyles>, kRmBenchStyles> m{};
};

struct RmBenchAccuracy {
    double hard = 0, normal = 0, easy = 0, avg = 0;  // avg = mean of the three
};

struct RmBenchScores {
    std::map<std::string, RmBenchAccuracy> domains;  // chat, code, math, safety
    RmBenchAccuracy                        overall;  // mean over the domains present
};

// Official compute_accuracy per domain: average the matrices over prompts; hard = mean of the
// upper-right triangle (chosen plainer than rejected), normal = diagonal, easy = lower-left.
// safety-refuse and safety-response form one domain, "safety".
RmBenchScores rm_bench_scores(const std::vector<RmBenchPrompt> & prompts);

// Groups the 9 pair predictions of each prompt back into its matrix; a prompt with a missing
// pair (skipped input) is left out.
std::vector<RmBenchPrompt> rm_bench_prompts(const std::vector<BenchPrediction> & predictions, TiePolicy tie);

}  // namespace grm
