// The held-out style (SurfaceStyle::heldout): a second bank of every surface choice of the judge
// world, written apart from the standard one in generator.cpp and teacher.cpp: response phrasings
// per domain, number formats, padding placement, refusal and compliance texts, the error models of
// partial and wrong answers, and the teacher's criteria wording. Only the dev and test splits use
// it; no training data ever does. The queries stay the canonical templates, and the learnability
// rules hold (near misses of the same length or magnitude, no shortcut by length).
#pragma once

#include "world/rng.h"
#include "world/task.h"

#include <optional>
#include <string>
#include <vector>

namespace grm::world::heldout {

// A response text for these items in the held-out phrasings.
std::string render(const Task & t, const std::vector<std::string> & items, Style style, Rng & rng);
// A wrong answer by the held-out error models (other near misses than the standard ones).
std::vector<std::string> near_miss(const Task & t, Rng & rng);
// A partly right answer (one item or letter off) by the held-out error models.
std::optional<std::vector<std::string>> partial_items(const Task & t, Rng & rng);

// The teacher's criteria in the held-out wording: the query-specific one, and the general pool.
std::string              fact_criterion(const Task & t, Rng & rng);
std::vector<std::string> general_criteria(const Task & t);

}  // namespace grm::world::heldout
