// The programmatic teacher: the stand-in for the strong model that RFT samples from. It writes a
// GRM trajectory (weighted query-specific criteria, an analysis that shows the work and puts each
// response's answer next to the computed one, boxed scores in shown order), makes realistic
// mistakes at a rate that grows with the level, and has a hinted mode that never ranks wrongly.
#pragma once

#include "world/task.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grm::world {

struct TeacherParams {
    // Probability that a trajectory contains a mistake at level L: min(0.95, fallibility * L).
    // A mistake is chosen to change the verdict whenever one can, so this is close to the error
    // rate by the correctness rule (Eq. 10).
    double fallibility = 0.15;
    bool   principles  = true;  // false: the no-principles ablation (analysis and scores only)
    // Hinted sampling: the original index of the best response. Never ranks wrongly; with
    // probability shortcut_rate the analysis skips the work and leans on the hint.
    std::optional<int> hint_best;
    double             shortcut_rate = 0.5;
    // Quote each response verbatim, framed as in the prompt ("[Response k]" ... "[End of Response
    // k]"), right before its line: copying a block behind an exact header is plain induction, and
    // the answer is then read from text a few tokens back instead of recalled from far away.
    bool quote = false;
    // Say whether the restated answer matches the computed one before the verdict ("computed 91:
    // different -> wrong"), in the words of the curriculum's match skill, so the verdict follows
    // from a token the model has practised instead of from a comparison it must do silently.
    bool match_words = false;
};

struct TeacherOutput {
    std::string      text;
    std::vector<int> shown_scores;  // in shown order (as boxed)
    std::vector<int> scores;        // original order
    bool             mistake = false;
    std::string      mistake_kind;  // "slip", "misread", "member"; empty without a mistake
    bool             shortcut = false;
};

double mistake_probability(const TeacherParams & p, int level);

// order[p] = original index of the response shown at position p (grm::shuffle_order).
TeacherOutput teach(const WorldItem & item, const std::vector<int> & order, uint64_t seed, const TeacherParams & params);

}  // namespace grm::world
