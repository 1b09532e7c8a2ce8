// Shared pieces of the real-benchmark loaders and official metrics: where the data lives, how a
// judged example's rewards become the 0/1 (or tie) credit the official scripts count.
#pragma once

#include "core/error.h"
#include "eval/results.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grm {

// $GRM_BENCHMARKS_DIR, else ../shared/benchmarks next to the source tree.
std::string default_benchmarks_dir();

// How a tie at the top counts. wrong: 0 (the official classifier scripts: correct iff chosen >
// rejected); half: 1/t for t tied responses (the Reward Bench generative script gives 0.5 to a
// tied pair); random: a seeded random pick among the tied (the DeepSeek-GRM protocol).
enum class TiePolicy { wrong, half, random };

// Credit for "response `target` beats every other" given rewards in original order. Empty
// rewards (nothing scorable) tie all n responses.
double win_credit(const std::vector<double> & rewards, int n, int target, TiePolicy tie, uint64_t seed);

// One judged example's rewards, as the official metrics see it.
struct BenchPrediction {
    const Truth *       truth = nullptr;
    std::vector<double> rewards;  // original order; empty when nothing was scorable
    int                 n_voted = 0;
    uint64_t            tie_seed = 0;
};

// Predictions of every judged record at one k (greedy records use k = 1).
std::vector<BenchPrediction> predictions_at(const std::vector<EvalRecord> & records, int k, uint64_t seed);

Result<nlohmann::json> read_json_file(const std::string & path);

// The text between the first and last '/' of an id like "bench/group/uid".
std::string id_group(const std::string & id);

}  // namespace grm
