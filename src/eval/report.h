// report.md (tables) and accuracy_vs_k.svg (hand-written plot) for an evaluation run.
#pragma once

#include "core/error.h"
#include "eval/metrics.h"

#include <string>
#include <vector>

namespace grm {

struct EvalParams;

struct ReportInputs {
    const EvalParams *              params          = nullptr;
    const RunSummary *              sampled         = nullptr;
    const RunSummary *              greedy          = nullptr;  // may be null
    const std::vector<EvalRecord> * sampled_records = nullptr;
    const std::vector<EvalRecord> * greedy_records  = nullptr;  // may be null
};

std::string render_report(const ReportInputs & in);

// Accuracy (ties broken at random) against k on a log2 axis: the plain voting line, the
// meta-guided line when present, and greedy as a dashed horizontal line.
std::string render_accuracy_plot(const RunSummary & sampled, const RunSummary * greedy);

Status write_report(const ReportInputs & in, const std::string & report_path, const std::string & plot_path);

}  // namespace grm
