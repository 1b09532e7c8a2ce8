// SPCT stage 1 data: rejective fine-tuning over teacher trajectories (N_RFT samples per input,
// each with its own shuffle, plus one hinted sample), mixed with plain answers, and the teacher's
// own accuracy measured with the correctness rule.
#pragma once

#include "core/error.h"
#include "world/generator.h"
#include "world/teacher.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace grm::world {

struct RftParams {
    GenParams     gen;      // the training inputs (normally the train split)
    SurfaceStyle  style = SurfaceStyle::standard;  // standard or varied (never heldout: it is not for training)
    TeacherParams teacher;  // hint_best is set per input for the hinted sample
    int           samples = 3;     // N_RFT non-hinted samples per input
    bool          hinted  = true;  // one extra hinted sample per input with n >= 2
    // Plain answers (query -> correct answer) per input: the general instruction data.
    double answers = 1.0;
};

struct RftCounts {
    long inputs = 0, dropped = 0;          // dropped: all non-hinted samples were right (too easy)
    long kept = 0, rejected = 0;           // non-hinted trajectories of the inputs not dropped
    long hinted_kept = 0, hinted_rejected = 0;
    long answers = 0;

    void add(const RftCounts & o);
};

struct RftReport {
    std::map<std::string, RftCounts> by_domain;
    RftCounts                        total;
    std::string                      markdown(const RftParams & p) const;
};

// Builds the records: {"prompt", "completion", "kind": "rft"|"rft_hinted"|"answer", "id", "domain",
// "level", "n", "order", "scores", "mistake"}. The prompt is grm::render_prompt of the default
// template (with or without principles, as the teacher writes) for the trajectory's shown order;
// hinted records carry the unhinted prompt, since the trained model never sees a hint.
RftReport build_rft(const RftParams & p, std::vector<nlohmann::json> & records);
Result<RftReport> write_rft(const RftParams & p, const std::string & path);

// The teacher's own accuracy by the correctness rule (Eq. 10), per domain and level.
struct TeacherEvalCell {
    long samples = 0, correct = 0, mistakes = 0;
};
struct TeacherEval {
    std::map<std::string, std::map<int, TeacherEvalCell>> cells;  // domain -> level -> counts
    TeacherEvalCell                                       total;
    std::string                                           markdown() const;
};
TeacherEval evaluate_teacher(const std::vector<WorldItem> & items, const TeacherParams & p, uint64_t seed, int samples_per_item = 1);

// Writes JSONL lines (atomically: temp file + rename).
Status write_jsonl(const std::string & path, const std::vector<nlohmann::json> & lines);

}  // namespace grm::world
