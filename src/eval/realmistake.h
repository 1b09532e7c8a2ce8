// ReaLMistake (single responses with binary error labels): loader from the encrypted archive and
// the official error-detection metrics, plus ROC-AUC of the score as the DeepSeek-GRM paper reports.
#pragma once

#include "core/error.h"
#include "core/sample.h"
#include "eval/bench_common.h"

#include <optional>
#include <string>
#include <vector>

namespace grm {

// The archive's published password (see the benchmark's MANIFEST.md).
constexpr const char * kRealMistakePassword = "open-realmistake";

// Extracts data.zip into a fresh temporary directory (unzip -P, else 7z), reads the six task/model
// files and deletes the directory again: the authors ask that the text never be stored in plain
// form. n = 1 samples; label = 1 for "no_error" (acceptable), 0 for "error"; domain = task name;
// id "realmistake/<task>/<metadata.id>".
Result<std::vector<Sample>> load_realmistake(const std::string & benchmarks_dir);

struct RealMistakeExample {
    bool        gold_error = false;
    std::string prediction;  // "error", "no_error", anything else is an invalid prediction
};

// get_performance: "error" is the positive class; an invalid prediction is wrong for accuracy and
// predicts neither class. The rates are fractions of all examples, as in the official file.
struct RealMistakeMetrics {
    int    total = 0, prediction_error_num = 0, gold_error_num = 0;
    double accuracy = 0, precision = 0, recall = 0, f1 = 0;
    double true_negative_rate = 0, false_positive_rate = 0, false_negative_rate = 0, true_positive_rate = 0;
};
RealMistakeMetrics realmistake_metrics(const std::vector<RealMistakeExample> & examples);

// GRM predictions: mean voted score < 6 -> "error", >= 6 -> "no_error", nothing scorable -> "invalid".
std::vector<RealMistakeExample> realmistake_examples(const std::vector<BenchPrediction> & predictions);

// ROC-AUC of the mean score for detecting acceptable responses (equivalently, of the negated score
// for detecting errors); predictions with no scorable sample are left out.
std::optional<double> realmistake_auc(const std::vector<BenchPrediction> & predictions, int * unscored = nullptr);

}  // namespace grm
