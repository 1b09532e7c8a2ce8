// The judge-world generator: canonical-template queries in nine domains, typed replies with
// known ratings and a unique best, levels 1-3, n = 1..4, disjoint train/dev/test streams.
#pragma once

#include "world/rng.h"
#include "world/task.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grm::world {

struct GenParams {
    Split               split = Split::train;
    int                 count = 100;
    uint64_t            seed  = 1;
    std::vector<Domain> domains;  // empty: all nine, in rotation
    int                 level = 0;  // 0: levels 1-3 in rotation
    int                 n     = 0;  // 0: the spec's mix (n=1 20%, n=2 50%, n=3 15%, n=4 15%)
};

// Item i of a split depends only on (split, seed, i): files with the same parameters are
// identical, and a longer file extends a shorter one. The style is not part of GenParams, so
// every training path (RFT, corpus, BT and meta inputs) is written in the standard style; the
// held-out style takes the dev or test split only (std::invalid_argument for train). A held-out
// item's id carries "-heldout", and its sample's `style` field says "heldout".
std::vector<WorldItem> generate(const GenParams & p, SurfaceStyle style = SurfaceStyle::standard);
WorldItem              generate_item(Domain d, int level, int n, Split split, uint64_t item_seed, const std::string & id,
                                     SurfaceStyle style = SurfaceStyle::standard);

// A query of the domain at the level (drawn for the split: test queries come from the held-out
// lexicon and, for the numeric domains, a query bucket that train and dev never use).
Task make_task(Domain d, int level, Split split, Rng & rng, SurfaceStyle style = SurfaceStyle::standard);
// A reply of the given kind (nullopt when the domain has no such kind for this task).
std::optional<Reply> make_reply(const Task & t, Kind kind, Rng & rng);
// The plain correct reply: the general instruction data's answer to the query.
Reply correct_reply(const Task & t, Rng & rng);
// A plausible wrong answer near the truth (same length or magnitude where it can be).
std::vector<std::string> near_miss(const Task & t, Rng & rng);

// Which query bucket a split draws from (test 0-1, dev 2, train 3-9 of ten).
bool query_in_split(const std::string & query, Split split);
// Whether a domain's queries are bucketed (numeric domains) or separated by the lexicon.
bool domain_bucketed(Domain d);

// How an answer is written in a critique: "85", "3, 17, 42", "elppa", "refuses".
std::string show_items(const Task & t, const std::vector<std::string> & items);

// Level-dependent parameters shared with the teacher and the curriculum corpus.
std::string format_number(long long v);

}  // namespace grm::world
