// The curriculum corpus: the judge world's skills as plain tasks (copying, reversing, counting,
// column arithmetic, comparing, sorting, restating a response's answer, matching two answers,
// answering the queries), in exactly the step format the teacher's critiques use, so a model can
// learn the work before it learns to judge with it. Words come from the training lexicon only.
#pragma once

#include "world/task.h"

#include <cstdint>
#include <string>
#include <vector>

namespace grm::world {

struct CorpusRecord {
    std::string skill;  // "copy", "work", "restate", "match", "answer"
    std::string domain;
    std::string prompt;
    std::string completion;
};

struct CorpusParams {
    int      count = 1000;
    uint64_t seed  = 1;
    Split    split = Split::train;  // the lexicon and query buckets to draw from
};

std::vector<CorpusRecord> make_corpus(const CorpusParams & p);

// The quote drill (skill "quote"): the judge prompt's query and 2-4 response blocks (seeded
// shuffled order) under its own instruction to quote them, so that a judge prompt never gets quotes
// alone; the completion is every block copied back in shown order, the copy a quoting teacher's
// response lines start with. In half of the records every letter of every response is random, so
// a quote can only be copied, never recalled.
std::vector<CorpusRecord> make_quote_drill(const CorpusParams & p);

// The repeat drill (skill "repeat", domain "none"): "Repeat:\n{text}\n" -> "{text}\n", where the text
// is 3-14 random "words" (1-8 random letters, some capitalised or followed by punctuation, 15%
// numbers 0-999). Nothing in it can be recalled, so its loss only falls once the model copies
// in context (an induction head); the text follows a newline in both places, so the copy is
// token for token. grm's models lacked this mechanism until drilled on it (research/models-notebook.md).
std::vector<CorpusRecord> make_repeat_drill(const CorpusParams & p);

// The match drill (skill "match-drill", domain "none"): "Repeat and compare:\n{a}\n{b}\n" ->
// "{a}, computed {b}: same\n" or ": different\n", the verdict line of a match-words trajectory
// (`grm world rft --match-words`). a and b are random answers shaped like the world's (numbers,
// decimals, words, dashed or capital letters, names, number lists); in half the records a is b
// with one edit (a character or list item changed, two swapped, one dropped or added), so
// "same" can only be told by comparing the two copies position by position.
std::vector<CorpusRecord> make_match_drill(const CorpusParams & p);

}  // namespace grm::world
