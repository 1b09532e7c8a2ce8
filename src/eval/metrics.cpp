// Metric computations over stored evaluation records.
#include "eval/metrics.h"

#include "core/seed.h"
#include "core/vote.h"

#include <algorithm>
#include <numeric>

namespace grm {

std::optional<double> roc_auc(const std::vector<double> & scores, const std::vector<int> & labels) {
    const size_t n = scores.size();
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    // average rank (1-based) of each tie group
    std::vector<double> rank(n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && scores[idx[j + 1]] == scores[idx[i]]) j++;
        double avg = (double) (i + j) / 2.0 + 1.0;
        for (size_t t = i; t <= j; t++) rank[idx[t]] = avg;
        i = j + 1;
    }
    double n_pos = 0, n_neg = 0, rank_sum_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i]) {
            n_pos += 1;
            rank_sum_pos += rank[i];
        } else {
            n_neg += 1;
        }
    }
    if (n_pos == 0 || n_neg == 0) return std::nullopt;
    double u = rank_sum_pos - n_pos * (n_pos + 1) / 2.0;
    return u / (n_pos * n_neg);
}

void Tally::add(bool strict_ok, bool random_ok) {
    items++;
    strict += strict_ok;
    random += random_ok;
}

VotedItem vote_record(const EvalRecord & r, int k, int k_meta, bool use_meta) {
    Judgment j = judgment_of(r);
    vote(j, k, k_meta, use_meta);
    VotedItem v;
    v.rewards = j.rewards;
    v.n_voted = j.n_voted;
    v.best    = j.best;
    return v;
}

uint64_t tie_seed(uint64_t seed, const std::string & id, int k) {
    return stream_seed(seed, Stream::tie_break, id, (uint64_t) k);
}

std::optional<int> acceptable_label(const Truth & t) {
    if (t.label) return *t.label;
    if (!t.ratings.empty()) return t.ratings[0] >= kAcceptableScore ? 1 : 0;
    return std::nullopt;
}

ItemOutcome grade(const Truth & t, const VotedItem & v, uint64_t seed) {
    ItemOutcome o;
    if (t.n >= 2) {
        if (!t.best) return o;
        o.has_truth = true;
        o.strict    = v.best && *v.best == *t.best;
        // Nothing scorable: every response ties at the top, so the random pick is uniform.
        std::vector<double> rewards = v.rewards.empty() ? std::vector<double>(t.n, 0.0) : v.rewards;
        o.random                    = random_tiebreak_argmax(rewards, seed) == *t.best;
        return o;
    }
    auto label = acceptable_label(t);
    if (!label) return o;
    o.has_truth = true;
    if (v.n_voted > 0 && !v.rewards.empty()) {
        o.score        = v.rewards[0] / v.n_voted;
        int acceptable = *o.score >= kAcceptableScore ? 1 : 0;
        o.strict       = acceptable == *label;
        o.random       = o.strict;
    } else {
        // No call at all: wrong by the strict rule, a fair coin by the random-tie rule.
        o.strict = false;
        o.random = random_tiebreak_argmax({ 0.0, 0.0 }, seed) == *label;
    }
    return o;
}

bool trajectory_correct(const Truth & t, const TrajectoryRecord & tr) {
    if (tr.scores.empty() || (int) tr.scores.size() != t.n) return false;
    if (t.n >= 2) {
        if (!t.best) return false;
        std::vector<double> r(tr.scores.begin(), tr.scores.end());
        auto                b = strict_argmax(r);
        return b && *b == *t.best;
    }
    auto label = acceptable_label(t);
    return label && ((tr.scores[0] >= kAcceptableScore ? 1 : 0) == *label);
}

const std::vector<std::string> & item_accuracy_bins() {
    static const std::vector<std::string> bins = { "0",          "(0, 0.2)",   "[0.2, 0.4)", "[0.4, 0.6)",
                                                   "[0.6, 0.8)", "[0.8, 1)",   "1" };
    return bins;
}

int item_accuracy_bin(double f) {
    if (f <= 0.0) return 0;
    if (f >= 1.0) return 6;
    if (f < 0.2) return 1;
    if (f < 0.4) return 2;
    if (f < 0.6) return 3;
    if (f < 0.8) return 4;
    return 5;
}

namespace {

KSummary summarize_k(const std::vector<EvalRecord> & records, int k, bool meta, uint64_t seed, int k_meta) {
    KSummary s;
    s.k    = k;
    s.meta = meta;
    std::vector<double> auc_scores;
    std::vector<int>    auc_labels;
    for (const EvalRecord & r : records) {
        if (!r.skipped.empty()) continue;
        VotedItem   v = vote_record(r, k, k_meta, meta);
        ItemOutcome o = grade(r.truth, v, tie_seed(seed, r.truth.id, k));
        if (!o.has_truth) continue;
        s.overall.add(o.strict, o.random);
        s.by_domain[r.truth.domain].add(o.strict, o.random);
        s.by_level[r.truth.level].add(o.strict, o.random);
        const std::string style = style_of(r.truth);
        s.by_style[style].add(o.strict, o.random);
        s.by_style_domain[{ style, r.truth.domain }].add(o.strict, o.random);
        s.by_style_level[{ style, r.truth.level }].add(o.strict, o.random);
        if (r.truth.n >= 2) {
            s.multi.add(o.strict, o.random);
        } else {
            s.single.add(o.strict, o.random);
            if (o.score) {
                auc_scores.push_back(*o.score);
                auc_labels.push_back(*acceptable_label(r.truth));
            } else {
                s.auc_unscored++;
            }
        }
    }
    s.auc_items = (int) auc_scores.size();
    s.auc       = roc_auc(auc_scores, auc_labels);
    return s;
}

}  // namespace

RunSummary summarize(const std::vector<EvalRecord> & records, const std::vector<int> & ks, uint64_t seed, int k_meta) {
    RunSummary sum;
    bool       has_meta = false;
    double     acc_sum  = 0;
    int        acc_n    = 0;
    sum.item_accuracy_hist.assign(item_accuracy_bins().size(), 0);
    for (const EvalRecord & r : records) {
        sum.inputs++;
        if (!r.skipped.empty()) {
            sum.skipped++;
            sum.skipped_reasons[r.skipped.substr(0, r.skipped.find(':'))]++;
            continue;
        }
        sum.judged++;
        sum.samples_per_input = std::max(sum.samples_per_input, (int) r.trajectories.size());
        int correct           = 0;
        for (const TrajectoryRecord & t : r.trajectories) {
            sum.trajectories++;
            if (t.reason != "none") sum.unscorable[t.reason]++;
            if (t.meta_score) has_meta = true;
            correct += trajectory_correct(r.truth, t);
        }
        bool graded = r.truth.n >= 2 ? r.truth.best.has_value() : acceptable_label(r.truth).has_value();
        if (!graded) {
            sum.no_truth++;
            continue;
        }
        if (!r.trajectories.empty()) {
            double f = (double) correct / r.trajectories.size();
            sum.item_accuracy_hist[item_accuracy_bin(f)]++;
            acc_sum += f;
            acc_n++;
        }
    }
    sum.mean_item_accuracy = acc_n ? acc_sum / acc_n : 0.0;
    for (int k : ks) {
        if (k < 1 || k > sum.samples_per_input) continue;
        sum.plain.push_back(summarize_k(records, k, false, seed, k_meta));
        if (has_meta) sum.meta.push_back(summarize_k(records, k, true, seed, k_meta));
    }
    return sum;
}

}  // namespace grm
