// Metrics against hand-computed tables: ROC-AUC with ties, strict vs random-tie accuracy,
// voting@k as a prefix of one sample set, meta-guided voting, per-item sample accuracy.
#include "eval/harness.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "eval_test_util.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace grm;
using grm::test::record;
using grm::test::traj;

TEST(RocAuc, HandComputedWithTies) {
    // positives {3, 2, 2}, negatives {2, 1}: pairs (p > n) = 3>2, 3>1, 2>1, 2>1 = 4, ties 2=2 twice
    // = 2 * 0.5; AUC = (4 + 1) / 6.
    auto auc = roc_auc({ 3, 2, 2, 2, 1 }, { 1, 1, 1, 0, 0 });
    ASSERT_TRUE(auc);
    EXPECT_NEAR(*auc, 5.0 / 6.0, 1e-12);
    EXPECT_NEAR(*roc_auc({ 1, 2, 3, 4 }, { 0, 0, 1, 1 }), 1.0, 1e-12);
    EXPECT_NEAR(*roc_auc({ 1, 2, 3, 4 }, { 1, 1, 0, 0 }), 0.0, 1e-12);
    EXPECT_NEAR(*roc_auc({ 5, 5, 5, 5 }, { 1, 0, 1, 0 }), 0.5, 1e-12);
    EXPECT_FALSE(roc_auc({ 1, 2 }, { 1, 1 }));
    // positives {.9, .8, .3} vs negatives {.9, .3, .1}: 2.5 + 2 + 1.5 = 6 of 9 pairs
    EXPECT_NEAR(*roc_auc({ 0.9, 0.9, 0.8, 0.3, 0.3, 0.1 }, { 1, 0, 1, 1, 0, 0 }), 6.0 / 9.0, 1e-12);
}

TEST(Grade, StrictCountsTiesWrongRandomBreaksThem) {
    Truth t;
    t.id   = "x";
    t.n    = 2;
    t.best = 0;
    VotedItem clear{ { 9, 3 }, 1, 0 };
    auto      o = grade(t, clear, 1);
    EXPECT_TRUE(o.has_truth && o.strict && o.random);
    VotedItem wrong{ { 3, 9 }, 1, 1 };
    o = grade(t, wrong, 1);
    EXPECT_FALSE(o.strict || o.random);
    // a tie: strict wrong; random right for about half the seeds, and the same seed gives the same call
    VotedItem tie{ { 5, 5 }, 1, std::nullopt };
    int       right = 0;
    for (uint64_t s = 0; s < 2000; s++) {
        auto a = grade(t, tie, s);
        EXPECT_FALSE(a.strict);
        EXPECT_EQ(a.random, grade(t, tie, s).random);
        right += a.random;
    }
    EXPECT_NEAR(right / 2000.0, 0.5, 0.05);
    // nothing scorable: a uniform pick among all n (1/3 for n = 3)
    t.n        = 3;
    int picked = 0;
    for (uint64_t s = 0; s < 3000; s++) picked += grade(t, VotedItem{}, s).random;
    EXPECT_NEAR(picked / 3000.0, 1.0 / 3.0, 0.04);
}

TEST(Grade, SingleResponseAcceptabilityCall) {
    Truth t;
    t.n     = 1;
    t.label = 1;
    auto o  = grade(t, VotedItem{ { 12 }, 2, 0 }, 0);  // mean 6: acceptable
    EXPECT_TRUE(o.strict);
    EXPECT_DOUBLE_EQ(*o.score, 6.0);
    o = grade(t, VotedItem{ { 11 }, 2, 0 }, 0);  // mean 5.5: not acceptable
    EXPECT_FALSE(o.strict);
    t.label.reset();
    t.ratings = { 3 };  // no label: rating 3 < 6 means unacceptable
    EXPECT_TRUE(grade(t, VotedItem{ { 2 }, 1, 0 }, 0).strict);
}

TEST(VoteRecord, PrefixOfOneSampleSet) {
    // K = 4 samples for a pair whose best is 0; rewards over the first k:
    // k=1: [4,6] -> wrong; k=2: [4+9, 6+2] = [13,8] -> right; k=3: +unscorable -> same;
    // k=4: +[1,6] -> [14,14] tie -> strict wrong
    EvalRecord r = record("p", 2, 0, { traj({ 4, 6 }), traj({ 9, 2 }), traj({}), traj({ 1, 6 }) });
    auto       v1 = vote_record(r, 1);
    EXPECT_EQ(v1.rewards, (std::vector<double>{ 4, 6 }));
    EXPECT_EQ(v1.best, 1);
    auto v2 = vote_record(r, 2);
    EXPECT_EQ(v2.rewards, (std::vector<double>{ 13, 8 }));
    EXPECT_EQ(v2.n_voted, 2);
    auto v3 = vote_record(r, 3);
    EXPECT_EQ(v3.rewards, (std::vector<double>{ 13, 8 }));
    EXPECT_EQ(v3.n_voted, 2);
    auto v4 = vote_record(r, 4);
    EXPECT_EQ(v4.rewards, (std::vector<double>{ 14, 14 }));
    EXPECT_FALSE(v4.best);
}

TEST(VoteRecord, MetaGuidedKeepsTopMetaScores) {
    // k = 4, k_meta = 2: the two highest meta scores are samples 1 and 3 -> [9+1, 2+6] = [10, 8]
    EvalRecord r = record("m", 2, 0,
                          { traj({ 4, 6 }, "none", 0.1), traj({ 9, 2 }, "none", 0.9), traj({ 3, 7 }, "none", 0.2),
                            traj({ 1, 6 }, "none", 0.8) });
    auto v = vote_record(r, 4, 2, true);
    EXPECT_EQ(v.rewards, (std::vector<double>{ 10, 8 }));
    EXPECT_EQ(v.best, 0);
    EXPECT_EQ(v.n_voted, 2);
}

TEST(Summarize, HandComputedTable) {
    std::vector<EvalRecord> rs;
    // a: right at k=1 and k=2
    rs.push_back(record("a", 2, 0, { traj({ 8, 2 }), traj({ 7, 3 }) }, "arith", 1));
    // b: wrong at k=1, tie at k=2 ([5+6, 6+5])
    rs.push_back(record("b", 2, 0, { traj({ 5, 6 }), traj({ 6, 5 }) }, "arith", 2));
    // c: n = 1, label acceptable; k=1 score 7 right, k=2 mean (7+3)/2 = 5 wrong
    rs.push_back(record("c", 1, std::nullopt, { traj({ 7 }), traj({ 3 }) }, "sort", 1, 1));
    // d: n = 1, label unacceptable; both samples unscorable
    rs.push_back(record("d", 1, std::nullopt, { traj({}, "truncated"), traj({}, "no_box") }, "sort", 2, 0));
    // e: skipped (context overflow)
    EvalRecord e;
    e.truth.id = "e";
    e.truth.n  = 2;
    e.skipped  = "context_overflow: prompt of 9000 tokens";
    rs.push_back(e);

    RunSummary s = summarize(rs, { 1, 2, 4 }, 7);
    EXPECT_EQ(s.inputs, 5);
    EXPECT_EQ(s.judged, 4);
    EXPECT_EQ(s.skipped, 1);
    EXPECT_EQ(s.skipped_reasons.at("context_overflow"), 1);
    EXPECT_EQ(s.samples_per_input, 2);
    ASSERT_EQ(s.plain.size(), 2u);  // k = 4 > K is left out
    EXPECT_TRUE(s.meta.empty());
    EXPECT_EQ(s.unscorable.at("truncated"), 1);
    EXPECT_EQ(s.unscorable.at("no_box"), 1);
    EXPECT_EQ(s.trajectories, 8);

    const KSummary & k1 = s.plain[0];
    EXPECT_EQ(k1.overall.items, 4);
    EXPECT_EQ(k1.overall.strict, 2);  // a, c
    EXPECT_EQ(k1.multi.strict, 1);
    EXPECT_EQ(k1.single.strict, 1);
    EXPECT_EQ(k1.by_domain.at("arith").strict, 1);
    EXPECT_EQ(k1.by_level.at(1).strict, 2);
    EXPECT_EQ(k1.by_level.at(2).strict, 0);
    EXPECT_EQ(k1.auc_items, 1);
    EXPECT_EQ(k1.auc_unscored, 1);
    EXPECT_FALSE(k1.auc);  // one class only among scored items

    const KSummary & k2 = s.plain[1];
    EXPECT_EQ(k2.overall.strict, 1);  // a only: b ties, c mean 5
    EXPECT_EQ(k2.multi.strict, 1);
    // random ties: a right; b a coin flip; c wrong (no tie); d a coin flip
    EXPECT_GE(k2.overall.random, 1);
    EXPECT_LE(k2.overall.random, 3);
    EXPECT_EQ(summarize(rs, { 1, 2 }, 7).plain[1].overall.random, k2.overall.random);  // reproducible

    // per-item sample accuracy: a 2/2, b 1/2 ([6,5] alone is right), c 1/2 (7 acceptable, 3 not), d 0/2
    EXPECT_EQ(s.item_accuracy_hist[item_accuracy_bin(1.0)], 1);
    EXPECT_EQ(s.item_accuracy_hist[item_accuracy_bin(0.0)], 1);
    EXPECT_EQ(s.item_accuracy_hist[item_accuracy_bin(0.5)], 2);
    EXPECT_NEAR(s.mean_item_accuracy, 2.0 / 4, 1e-12);
}

TEST(Summarize, AucOverSingleResponses) {
    std::vector<EvalRecord> rs;
    rs.push_back(record("p1", 1, std::nullopt, { traj({ 9 }) }, "d", 1, 1));
    rs.push_back(record("p2", 1, std::nullopt, { traj({ 4 }) }, "d", 1, 1));
    rs.push_back(record("n1", 1, std::nullopt, { traj({ 4 }) }, "d", 1, 0));
    rs.push_back(record("n2", 1, std::nullopt, { traj({ 2 }) }, "d", 1, 0));
    auto s = summarize(rs, { 1 }, 0);
    // pairs: 9>4, 9>2, 4=4 (1/2), 4>2 -> 3.5 / 4
    ASSERT_TRUE(s.plain[0].auc);
    EXPECT_NEAR(*s.plain[0].auc, 3.5 / 4, 1e-12);
    EXPECT_EQ(s.plain[0].single.strict, 3);  // p2 (4 < 6) wrong
}

TEST(Summarize, MetaLinesWhenMetaScoresExist) {
    std::vector<EvalRecord> rs;
    rs.push_back(record("m", 2, 0, { traj({ 2, 8 }, "none", 0.1), traj({ 9, 2 }, "none", 0.9) }));
    auto s = summarize(rs, { 1, 2 }, 0, 1);
    ASSERT_EQ(s.meta.size(), 2u);
    EXPECT_EQ(s.plain[1].overall.strict, 1);  // [11, 10]
    EXPECT_EQ(s.meta[1].overall.strict, 1);   // the 0.9 sample alone
    EXPECT_EQ(s.meta[0].overall.strict, 0);   // k = 1: only the first sample, which is wrong
}

TEST(Summarize, ByStyleSideBySideInTheReport) {
    // Two items in the standard style (no `style`), two in the held-out style: one right each
    // at k = 1, so the table must read 50.0 for both styles, per domain and per level.
    std::vector<EvalRecord> rs;
    rs.push_back(record("s1", 2, 0, { traj({ 8, 2 }) }, "arith", 1));
    rs.push_back(record("s2", 2, 0, { traj({ 2, 8 }) }, "sort", 2));
    rs.push_back(record("h1", 2, 0, { traj({ 9, 1 }) }, "arith", 1));
    rs.push_back(record("h2", 2, 1, { traj({ 9, 1 }) }, "arith", 2));
    rs[2].truth.style = "heldout";
    rs[3].truth.style = "heldout";
    RunSummary       s  = summarize(rs, { 1 }, 7);
    const KSummary & k1 = s.plain[0];
    ASSERT_EQ(k1.by_style.size(), 2u);
    EXPECT_EQ(k1.by_style.at("standard").items, 2);
    EXPECT_EQ(k1.by_style.at("standard").strict, 1);
    EXPECT_EQ(k1.by_style.at("heldout").strict, 1);
    EXPECT_EQ(k1.by_style_domain.at({ "heldout", "arith" }).items, 2);
    EXPECT_EQ(k1.by_style_level.at({ "heldout", 2 }).strict, 0);
    EXPECT_EQ(k1.by_style_level.at({ "standard", 1 }).strict, 1);

    EvalParams   p;
    ReportInputs in;
    in.params               = &p;
    in.sampled              = &s;
    in.sampled_records      = &rs;
    const std::string md    = render_report(in);
    const size_t      table = md.find("## In style vs held-out style");
    ASSERT_NE(table, std::string::npos);
    // columns: items standard, items heldout, voting@1 standard, voting@1 heldout (in-style first)
    EXPECT_NE(md.find("| all | 2 | 2 | 50.0 / 50.0 | 50.0 / 50.0 |", table), std::string::npos) << md.substr(table);
    EXPECT_NE(md.find("| arith | 1 | 2 | 100.0 / 100.0 | 50.0 / 50.0 |", table), std::string::npos) << md.substr(table);
    EXPECT_NE(md.find("| level 2 | 1 | 1 | 0.0 / 0.0 | 0.0 / 0.0 |", table), std::string::npos) << md.substr(table);

    // One style only: no such section.
    rs.resize(2);
    RunSummary one = summarize(rs, { 1 }, 7);
    in.sampled     = &one;
    EXPECT_EQ(render_report(in).find("held-out style"), std::string::npos);
}
