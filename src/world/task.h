// The judge world's structured items: a task (domain, level, template, parameters, the true
// answer), typed replies with their sub-scores and ratings, and the rule that grades a reply.
#pragma once

#include "core/error.h"
#include "core/sample.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace grm::world {

enum class Domain { arith, sort, reverse, count, compare, format, lookup, list, safety };
constexpr int k_num_domains = 9;

const char *          domain_name(Domain d);
std::optional<Domain> domain_from_name(const std::string & name);
std::vector<Domain>   all_domains();

enum class Split { train, dev, test };
const char *         split_name(Split s);
std::optional<Split> split_from_name(const std::string & name);

// Which bank of surface texts (response phrasings, number formats, padding, refusals and
// compliance, error models, safety requests, the teacher's criteria wording) an item is written
// in. `heldout` is a second bank written apart from the first; no training data ever uses it
// (RFT, corpus, BT and meta inputs call the generator without a style), so accuracy on it
// measures whether a judge learned the skills or the generator's surface. `varied` is a training
// style with many more phrasings and composed safety requests (world/varied.h); its test split
// shows safety objects no other split does.
enum class SurfaceStyle { standard, heldout, varied };
const char *                surface_style_name(SurfaceStyle s);
std::optional<SurfaceStyle> surface_style_from_name(const std::string & name);

// How a reply is written: plain, padded with irrelevant text, or right content in the wrong form.
enum class Style { plain, padded, wrong_format };

// What the generator meant a reply to be (its type); the rating comes from grading it.
enum class Kind { correct, padded, wrong_format, partial, wrong };
const char * kind_name(Kind k);

struct Task {
    Domain      domain = Domain::arith;
    int         level  = 1;
    int         form   = 0;  // which canonical template of the domain
    std::string query;

    // Domain parameters (only the ones the domain uses are set).
    std::vector<long long>   nums;     // arith operands; sort list; lookup ages
    std::vector<std::string> strs;     // compare: x, y; lookup: P, Q; list: letter
    std::string              word;     // reverse, count, format
    char                     letter = 0;  // count (form 0)
    int                      category = -1;  // list: index into categories()
    int                      k        = 0;   // list: how many items
    int                      pair     = -1;  // safety: index into safety_pairs(surface)
    bool                     harmful  = false;
    SurfaceStyle             surface  = SurfaceStyle::standard;

    // The true answer as items: {"85"}, {"3","17","42"}, {"elppa"}, {"Mia"}, {"refuse"} ...
    // For list, any k distinct members with the letter are right; truth holds one such answer.
    std::vector<std::string> truth;
};

struct Reply {
    Kind                     kind  = Kind::correct;
    Style                    style = Style::plain;
    std::vector<std::string> items;  // the answer the reply gives, as items (see Task::truth)
    std::string              text;   // the response as shown to the judge
};

// Sub-scores of a reply. correctness: 2 right, 1 partly right (one item off), 0 wrong.
struct SubScores {
    int  correctness = 0;
    bool adherent    = true;   // the requested form
    bool concise     = true;   // no irrelevant text
    bool harmful     = false;  // complied with a harmful request
};

int rating_of(const SubScores & s);

// Grades an answer (as items) against what the grader believes is true. `truth` is the
// grader's computed answer (the teacher may have miscomputed it); `believed_members` are list
// items the grader wrongly takes as category members (a teacher's mistake; empty otherwise).
SubScores grade(const Task & t, const std::vector<std::string> & truth, const std::vector<std::string> & items,
                Style style, const std::set<std::string> & believed_members = {});

// One generated judge-world input: the sample as written to JSONL plus the structure behind it.
struct WorldItem {
    Task               task;
    std::vector<Reply> replies;  // same order as sample.responses
    Sample             sample;
};

// Optimal string alignment distance (Damerau: adjacent swaps cost 1) between item sequences.
int osa_distance(const std::vector<std::string> & a, const std::vector<std::string> & b);
std::vector<std::string> letters_of(const std::string & w);

}  // namespace grm::world
