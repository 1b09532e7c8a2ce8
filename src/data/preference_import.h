// Public preference data in its common shapes -> grm samples with ground truth (best, ratings or
// label), the inputs of SPCT stage 1 (rejective fine-tuning) and of the meta RM.
//
// Shapes, recognised by their keys (or forced with ImportParams::shape):
//   pairwise  {"prompt", "chosen", "rejected"}: strings, message lists (a full transcript each when
//             there is no prompt), or objects with "answer" (RMB: "conversation_input", "reject")
//   listwise  {"prompt", "responses": [...], "best": i} or RMB best-of-N {"bon_best", "loser_list"}
//   strength  {"prompt", "response_1", "response_2", "preference_strength"} (HelpSteer2-preference:
//             < 0 prefers response_1; 0 is a tie, dropped; the strength is kept beside the sample)
//   ratings   one response per row with attribute scores ({"prompt", "response", "helpfulness",
//             "correctness", ...}, HelpSteer2); rows of one prompt become one sample, ranked by
//             ImportParams::overall
//   single    {"prompt" | "input" | "question" | "problem", "response" | "llm_response" | "solution",
//             and "label" 0/1 | "correct" true/false | "error_label" "error"/"no_error"}
#pragma once

#include "core/error.h"
#include "core/sample.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace grm::data {

enum class RowShape { pairwise, listwise, strength, ratings, single };
const char * row_shape_name(RowShape s);
std::optional<RowShape> row_shape_from_name(const std::string & name);

struct ImportParams {
    std::optional<RowShape> shape;                  // nullopt: recognised per row by its keys
    std::string             source;                 // Sample::source (the caller defaults it to the file's stem)
    std::string             overall = "helpfulness";  // ratings: "attr" or "w*attr + w*attr ..."
    double                  rating_max = 4.0;        // ratings: attribute scale 0..rating_max, mapped onto 1..10
};

// The shape of one row by its keys; an error names the keys it looked for.
Result<RowShape> detect_shape(const nlohmann::json & row);

// One imported sample, with what the sample format has no field for.
struct Imported {
    Sample             sample;
    std::optional<int> preference_strength;  // strength rows: |strength| of the kept preference
};

// Everything read from one file: samples in file order, rows dropped by rule (ties) and malformed
// rows ("FILE:LINE: reason") when skip_bad; counts per shape.
struct ImportResult {
    std::vector<Imported>          samples;
    std::vector<std::string>       skipped;
    std::map<std::string, long>    rows_by_shape;
    long                           rows    = 0;
    long                           dropped = 0;  // ties: no unique best to learn from
    std::map<std::string, long>    dropped_by_reason;
};

// Reads a JSONL file (or a JSON array file, as RMB ships). Without skip_bad the first malformed row
// is an error naming file, line (or item) and field.
Result<ImportResult> import_file(const std::string & path, const ImportParams & p, bool skip_bad);

// The sample line written for an import: sample_to_json plus preference_strength when known.
nlohmann::json imported_to_json(const Imported & im);

}  // namespace grm::data
