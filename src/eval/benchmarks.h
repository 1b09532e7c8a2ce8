// The real benchmarks by name: loading into samples and the official-metric section of a report.
#pragma once

#include "core/error.h"
#include "core/sample.h"
#include "eval/results.h"

#include <cstdint>
#include <string>
#include <vector>

namespace grm {

// "rewardbench", "rmb", "rm-bench", "realmistake".
const std::vector<std::string> & benchmark_names();

Result<std::vector<Sample>> load_benchmark(const std::string & name, const std::string & benchmarks_dir);

// Markdown: the benchmark's official metric for greedy (when given) and voting@k for each k
// (ties broken at random with `seed`, the DeepSeek-GRM protocol, unless the table says otherwise).
std::string official_report(const std::string & name, const std::vector<EvalRecord> & sampled,
                            const std::vector<EvalRecord> * greedy, const std::vector<int> & ks, uint64_t seed);

}  // namespace grm
