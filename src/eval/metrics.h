// Evaluation metrics over stored records: voting@k from one sample set, strict and random-tie
// accuracy, the n = 1 acceptability call and ROC-AUC, breakdowns and per-item sample accuracy.
#pragma once

#include "eval/results.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace grm {

// n = 1: a response is called acceptable when its (mean voted) score is at least this; the same
// threshold defines `label` in the sample format (rating >= 6 means acceptable).
constexpr double kAcceptableScore = 6.0;

// ROC-AUC of `scores` for labels (1 = positive) by the Mann-Whitney U statistic with average ranks
// for ties, i.e. a tied positive/negative pair counts one half. nullopt when a class is empty.
std::optional<double> roc_auc(const std::vector<double> & scores, const std::vector<int> & labels);

// Correct counts for one group of items: strict (a tie at the top is wrong, the training rule)
// and random (ties broken at random, the paper's evaluation protocol).
struct Tally {
    int items  = 0;
    int strict = 0;
    int random = 0;

    void   add(bool strict_ok, bool random_ok);
    double strict_acc() const { return items ? (double) strict / items : 0.0; }
    double random_acc() const { return items ? (double) random / items : 0.0; }
};

// Rewards of a record voted over its first k trajectories (grm::vote), optionally meta-guided.
struct VotedItem {
    std::vector<double> rewards;  // empty when nothing among the first k was scorable
    int                 n_voted = 0;
    std::optional<int>  best;     // strict argmax
};
VotedItem vote_record(const EvalRecord & r, int k, int k_meta = 0, bool use_meta = false);

// The seed that breaks the ties of one input at one k: fixed by (run seed, id, k) so a report is
// reproducible and independent of the order records were written in.
uint64_t tie_seed(uint64_t seed, const std::string & id, int k);

// Ground-truth label for n = 1: `label`, else rating >= 6; nullopt when neither is known.
std::optional<int> acceptable_label(const Truth & t);

// One input's outcome at one k. has_truth = false: no `best` (n >= 2) or label (n = 1) to grade.
struct ItemOutcome {
    bool                  has_truth = false;
    bool                  strict    = false;
    bool                  random    = false;
    std::optional<double> score;  // n = 1: mean voted score (nullopt when nothing was scorable)
};
ItemOutcome grade(const Truth & t, const VotedItem & v, uint64_t seed);

// Whether one trajectory on its own is right: n >= 2 its scores put the best strictly first;
// n = 1 its acceptability call matches the label.
bool trajectory_correct(const Truth & t, const TrajectoryRecord & tr);

struct KSummary {
    int                          k    = 1;
    bool                         meta = false;
    Tally                        overall;
    Tally                        multi;   // n >= 2
    Tally                        single;  // n = 1: acceptable/unacceptable call
    std::map<std::string, Tally> by_domain;
    std::map<int, Tally>         by_level;
    // By the judge world's surface style (style_of: "standard", "heldout"), alone and crossed with
    // domain and level, so in-style and held-out-style accuracy can be set side by side.
    std::map<std::string, Tally>                        by_style;
    std::map<std::pair<std::string, std::string>, Tally> by_style_domain;
    std::map<std::pair<std::string, int>, Tally>         by_style_level;
    std::optional<double>        auc;     // n = 1: ROC-AUC of the mean score, scored items only
    int                          auc_items    = 0;
    int                          auc_unscored = 0;  // n = 1 items with no scorable sample among k
};

// Per-item sample accuracy histogram bins: exactly 0, five fifths of (0, 1), exactly 1.
const std::vector<std::string> & item_accuracy_bins();
int                              item_accuracy_bin(double fraction);

struct RunSummary {
    int                        inputs   = 0;  // records
    int                        judged   = 0;
    int                        skipped  = 0;
    int                        no_truth = 0;  // judged but without ground truth (not graded)
    std::map<std::string, int> skipped_reasons;  // error code name -> inputs
    int                        samples_per_input = 0;  // K (largest trajectory count)
    int                        trajectories      = 0;
    std::map<std::string, int> unscorable;  // reason -> trajectories (all K of every input)
    std::vector<KSummary>      plain;       // one per k in ks with k <= K
    std::vector<KSummary>      meta;        // same, meta-guided; empty without meta scores
    std::vector<int>           item_accuracy_hist;  // counts per item_accuracy_bins()
    double                     mean_item_accuracy = 0.0;
};

RunSummary summarize(const std::vector<EvalRecord> & records, const std::vector<int> & ks, uint64_t seed,
                     int k_meta = 0);

}  // namespace grm
