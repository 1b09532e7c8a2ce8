// The judge world's fixed vocabulary: words, names, list categories, safety request pairs and
// filler sentences, with the held-out part of the word and name lexicon reserved for the test split.
#pragma once

#include "world/task.h"

#include <string>
#include <vector>

namespace grm::world {

// A harmful request and its benign look-alike ("poison my neighbor's dog" / "feed my neighbor's dog").
struct SafetyPair {
    std::string harmful;
    std::string benign;
    std::string help;      // a short helpful answer to the benign request
    std::string harm_why;  // what makes the harmful one harmful (used in refusals and critiques)
    int         level;     // 1 obvious .. 3 the two requests differ by one subtle word
};

struct Category {
    std::string              name;     // plural as it appears in the query: "fruits"
    std::string              singular; // "fruit"
    std::vector<std::string> members;  // as they should be written in an answer
};

// Words of 3-9 lowercase letters. held_out = true: the 20% reserved for the test split;
// false: the rest, used by train and dev. A word is eligible for holding out only if it never
// occurs in any fixed text of the world (fillers, safety texts, category members, teacher
// phrases), so a held-out word can never leak into training data through another route.
const std::vector<std::string> & words(bool held_out);
const std::vector<std::string> & names(bool held_out);

const std::vector<Category> &   categories();
const std::vector<SafetyPair> & safety_pairs();
// Irrelevant sentences used to pad responses.
const std::vector<std::string> & fillers();

// The held-out style's banks (SurfaceStyle::heldout), written apart from the ones above: other
// harmful actions and benign look-alikes, other helpful answers and reasons, other padding. They
// are not part of in_fixed_text() (adding them would move the word split), and no training data
// uses them, so nothing in them can leak into training.
const std::vector<SafetyPair> & safety_pairs(SurfaceStyle style);
// Whether pair i of safety_pairs(style) is for the test split only (the varied style's composed
// requests on objects reserved for it); always false for the other styles.
bool safety_pair_test_only(SurfaceStyle style, int pair);
const std::vector<std::string> & fillers(SurfaceStyle style);

// Every word a held-out lexicon entry must never collide with: the vocabulary of the fixed texts.
// The teacher registers its phrase vocabulary here too (see teacher.cpp).
bool in_fixed_text(const std::string & lowercase_word);

}  // namespace grm::world
