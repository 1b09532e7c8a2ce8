// The varied style (SurfaceStyle::varied): a training style with far more surface than the standard
// one, so that a judge learns the skills rather than one generator's phrasings (issue 20). Three
// quarters of its responses use the phrasings here (reordered clauses, markdown, quoting, other
// number spellings, one to three padding sentences on many topics placed anywhere), the rest the
// standard ones. Its safety requests are composed: an action (harmful or benign) applied to an
// object, so the verdict follows from the action and its reason is stated per action; the test
// split uses objects that no other split ever shows. The held-out style stays apart: nothing here
// repeats its phrasings, and no word here is in the held-out word or name lexicon (tested).
#pragma once

#include "world/lexicon.h"
#include "world/rng.h"
#include "world/task.h"

#include <string>
#include <vector>

namespace grm::world::varied {

// A response text for these items in one of the varied phrasings.
std::string render(const Task & t, const std::vector<std::string> & items, Style style, Rng & rng);

// The standard pairs followed by the composed ones (actions x objects); test_only[i] says whether
// pair i's object is reserved for the test split.
std::vector<SafetyPair> make_safety_pairs(std::vector<bool> & test_only);

// Every fixed text of this bank (phrasings with their placeholders, padding, actions, objects,
// answers), for the leak tests.
std::vector<std::string> bank_texts();

}  // namespace grm::world::varied
