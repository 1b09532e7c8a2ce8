// Extracts principles, analysis and scores from one GRM generation. Anything that is not exactly
// n integers 1..10 in the last \boxed{...} is unscorable with a reason, never a score (clip_scores:
// integers outside 1..10 are moved to the nearest end instead, as the DeepSeek-GRM model card's
// code does). binary: the 0/1 variant for one response (the paper's single-response training
// format), whose scores are 0 or 1 instead; ignored when n >= 2, as in render_prompt and is_correct.
#pragma once

#include "core/engine.h"

#include <string>
#include <vector>

namespace grm {

enum class Unscorable {
    none,          // parsed fine
    engine_error,  // the sample failed in the engine (e.g. HTTP 500)
    truncated,     // cut by the length limit before a complete box
    no_box,        // no \boxed{...}
    not_integer,   // a box entry is not an integer
    wrong_count,   // number of scores != n
    out_of_range,  // a score outside 1..10 (0..1 in the binary variant)
};
const char * unscorable_name(Unscorable u);

struct Principle {
    std::string text;
    int         weight = -1;  // -1 when the line gives none
};

struct ParsedJudgment {
    Unscorable             reason = Unscorable::none;
    std::string            detail;      // human-readable explanation of the reason
    std::vector<Principle> principles;  // from the "Specific Criteria:" section (may be empty)
    std::string            analysis;    // the "Analysis:" section
    std::vector<int>       scores;      // in shown order; filled only when reason == none
    int                    clipped = 0;  // scores moved into the range (clip_scores only)

    bool ok() const { return reason == Unscorable::none; }
};

ParsedJudgment parse_judgment(const std::string & text, int n, FinishReason finish = FinishReason::stop,
                              bool clip_scores = false, bool binary = false);

}  // namespace grm
