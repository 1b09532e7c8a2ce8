// Golden checks of the judge world: canonical templates verbatim, a unique best, the n mix,
// disjoint splits, the held-out lexicon, seeded reproducibility, the teacher's correctness and
// fallibility, hinted sampling, and the RFT filter's counts on a fixed seed.
#include "core/parse.h"
#include "core/prompt.h"
#include "core/vote.h"
#include "world/corpus.h"
#include "world/generator.h"
#include "world/lexicon.h"
#include "world/rft.h"
#include "world/teacher.h"
#include "world/varied.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace grm;
using namespace grm::world;

namespace {

// Golden RFT counts for (count 180, seed 7, fallibility 0.15, N_RFT 3, hinted).
constexpr long k_golden_dropped  = 77;
constexpr long k_golden_kept     = 166;
constexpr long k_golden_rejected = 143;
constexpr long k_golden_hinted   = 78;

std::vector<WorldItem> gen(Split s, int count, uint64_t seed) {
    GenParams p;
    p.split = s;
    p.count = count;
    p.seed  = seed;
    return generate(p);
}

// The canonical templates of docs/judge-world.md, one pattern per template.
const std::map<std::string, std::vector<std::string>> & templates() {
    static const std::map<std::string, std::vector<std::string>> t = {
        { "arith", { R"(What is \d+ \+ \d+\?)", R"(What is \d+ - \d+\?)", R"(What is \d+ \* \d+\?)", R"(Compute \d+ \+ \d+ \* \d+\.)" } },
        { "sort", { R"(Sort these numbers from smallest to largest: \d{1,2}(, \d{1,2}){2,6}\.)",
                    R"(Sort these numbers from largest to smallest: \d{1,2}(, \d{1,2}){2,6}\.)" } },
        { "reverse", { R"(Reverse the word '[a-z]{3,9}'\.)", R"(Spell the word '[a-z]{3,9}' backwards\.)" } },
        { "count", { R"(How many times does the letter '[a-z]' appear in '[a-z]{3,9}'\?)", R"(How many letters are in the word '[a-z]{3,9}'\?)" } },
        { "compare", { R"(Which is larger, \d+(\.\d{1,3})? or \d+(\.\d{1,3})?\?)", R"(Which is smaller, \d+(\.\d{1,3})? or \d+(\.\d{1,3})?\?)" } },
        { "format", { R"(Write the word '[a-z]{3,9}' in capital letters\.)", R"(Write the word '[a-z]{3,9}' with a dash between each letter\.)" } },
        { "lookup", { R"([A-Z][a-z]+ is \d+ years old\. [A-Z][a-z]+ is \d+ years old\. Who is older\?)",
                      R"([A-Z][a-z]+ is \d+ years old\. [A-Z][a-z]+ is \d+ years old\. Who is younger\?)" } },
        { "list", { R"(Name [2-4] (fruits|animals|colors|countries) that start with the letter '[A-Za-z]'\.)" } },
        { "safety", { R"(How can I [^?]+\?)" } },
    };
    return t;
}

std::set<std::string> alpha_words(const std::string & text) {
    std::set<std::string> out;
    std::string           cur;
    for (char c : text + " ") {
        if (std::isalpha((unsigned char) c)) {
            cur += c;
        } else if (!cur.empty()) {
            out.insert(cur);
            cur.clear();
        }
    }
    return out;
}

}  // namespace

TEST(World, CanonicalTemplatesVerbatim) {
    std::map<std::string, std::vector<int>> hits;
    for (Split s : { Split::train, Split::test }) {
        for (const auto & it : gen(s, 900, 11)) {
            const auto & pats = templates().at(it.sample.domain);
            hits[it.sample.domain].resize(pats.size());
            bool matched = false;
            for (size_t i = 0; i < pats.size(); i++) {
                if (std::regex_match(it.sample.query(), std::regex(pats[i]))) {
                    hits[it.sample.domain][i]++;
                    matched = true;
                }
            }
            EXPECT_TRUE(matched) << it.sample.query();
        }
    }
    EXPECT_EQ(hits.size(), 9u);
    for (const auto & [d, h] : hits) {
        for (size_t i = 0; i < h.size(); i++) EXPECT_GT(h[i], 0) << d << " template " << i << " never generated";
    }
}

TEST(World, SortListsAreDistinctSmallIntegers) {
    GenParams p;
    p.domains = { Domain::sort };
    p.count   = 200;
    for (const auto & it : generate(p)) {
        const auto & n = it.task.nums;
        EXPECT_GE(n.size(), 3u);
        EXPECT_LE(n.size(), 7u);
        EXPECT_EQ(std::set<long long>(n.begin(), n.end()).size(), n.size());
        for (long long v : n) EXPECT_TRUE(v >= 0 && v <= 99);
    }
}

TEST(World, UniqueBestAndValidSamples) {
    for (const auto & it : gen(Split::train, 1800, 3)) {
        const Sample & s = it.sample;
        ASSERT_TRUE(validate_sample(s).ok()) << s.id;
        for (int r : s.ratings) EXPECT_TRUE(r >= 1 && r <= 10);
        if (s.n() >= 2) {
            ASSERT_TRUE(s.best.has_value());
            for (int i = 0; i < s.n(); i++) {
                if (i != *s.best) {
                    EXPECT_LT(s.ratings[(size_t) i], s.ratings[(size_t) *s.best]) << s.id;
                }
            }
            EXPECT_EQ(std::set<std::string>(s.responses.begin(), s.responses.end()).size(), s.responses.size());
        } else {
            ASSERT_TRUE(s.label.has_value());
            EXPECT_EQ(*s.label, s.ratings[0] >= 6 ? 1 : 0);
        }
    }
}

TEST(World, ResponseCountMixAndLevels) {
    std::map<int, int> by_n, by_level, label;
    const int          total = 2700;
    for (const auto & it : gen(Split::train, total, 5)) {
        by_n[it.sample.n()]++;
        by_level[it.sample.level]++;
        if (it.sample.n() == 1) label[*it.sample.label]++;
    }
    EXPECT_NEAR(by_n[1] / (double) total, 0.20, 0.03);
    EXPECT_NEAR(by_n[2] / (double) total, 0.50, 0.04);
    EXPECT_NEAR(by_n[3] / (double) total, 0.15, 0.03);
    EXPECT_NEAR(by_n[4] / (double) total, 0.15, 0.03);
    for (int l = 1; l <= 3; l++) EXPECT_EQ(by_level[l], total / 3);
    // single responses are balanced between acceptable and not
    EXPECT_NEAR(label[1] / (double) (label[0] + label[1]), 0.5, 0.08);
}

TEST(World, SplitsAreDisjoint) {
    std::set<std::string> train, dev, test;
    auto                  fill = [](std::set<std::string> & out, Split s) {
        for (const auto & it : gen(s, 1800, 1)) {
            if (it.task.domain != Domain::list && it.task.domain != Domain::safety) out.insert(it.sample.query());
        }
    };
    fill(train, Split::train);
    fill(dev, Split::dev);
    fill(test, Split::test);
    for (const auto & q : test) EXPECT_FALSE(train.count(q)) << q;
    for (const auto & q : dev) EXPECT_FALSE(train.count(q)) << q;
    for (const auto & q : test) EXPECT_FALSE(dev.count(q)) << q;
}

TEST(World, HeldOutLexiconOnlyInTest) {
    const std::set<std::string> held_words(words(true).begin(), words(true).end());
    const std::set<std::string> held_names(names(true).begin(), names(true).end());
    ASSERT_GE(held_words.size(), 40u);
    ASSERT_GE(held_names.size(), 8u);
    for (const auto & w : words(true)) EXPECT_EQ(std::count(words(false).begin(), words(false).end(), w), 0);

    // Everything training sees: train samples, RFT trajectories and answers, the corpus.
    std::string text;
    for (const auto & it : gen(Split::train, 900, 2)) text += nlohmann::json(sample_to_json(it.sample)).dump() + "\n";
    RftParams rp;
    rp.gen.count = 270;
    rp.gen.seed  = 2;
    std::vector<nlohmann::json> recs;
    build_rft(rp, recs);
    for (const auto & r : recs) text += r["prompt"].get<std::string>() + "\n" + r["completion"].get<std::string>() + "\n";
    CorpusParams cp;
    cp.count = 900;
    for (const auto & r : make_corpus(cp)) text += r.prompt + "\n" + r.completion + "\n";
    for (const auto & w : alpha_words(text)) {
        std::string lw = w;
        for (char & c : lw) c = (char) std::tolower((unsigned char) c);
        EXPECT_FALSE(held_words.count(lw)) << "held-out word in training data: " << w;
        EXPECT_FALSE(held_names.count(w)) << "held-out name in training data: " << w;
    }

    // The test split's word and name slots come from the held-out part.
    for (const auto & it : gen(Split::test, 900, 2)) {
        if (!it.task.word.empty()) {
            EXPECT_TRUE(held_words.count(it.task.word)) << it.task.word;
        }
        if (it.task.domain == Domain::lookup) {
            EXPECT_TRUE(held_names.count(it.task.strs[0]));
            EXPECT_TRUE(held_names.count(it.task.strs[1]));
        }
    }
}

TEST(World, SeededReproducibility) {
    auto dump = [](Split s, uint64_t seed) {
        std::string out;
        for (const auto & it : gen(s, 200, seed)) out += sample_to_json(it.sample).dump() + "\n";
        return out;
    };
    EXPECT_EQ(dump(Split::train, 9), dump(Split::train, 9));
    EXPECT_NE(dump(Split::train, 9), dump(Split::train, 10));
    EXPECT_NE(dump(Split::train, 9), dump(Split::dev, 9));
    // a longer file extends a shorter one
    auto a = gen(Split::test, 50, 4), b = gen(Split::test, 80, 4);
    for (size_t i = 0; i < a.size(); i++) EXPECT_EQ(sample_to_json(a[i].sample), sample_to_json(b[i].sample));
}

TEST(Teacher, InfallibleTeacherIsAlwaysCorrect) {
    TeacherParams tp;
    tp.fallibility = 0;
    for (bool principles : { true, false }) {
        tp.principles = principles;
        int k         = 0;
        for (const auto & it : gen(Split::test, 900, 6)) {
            const auto          order = shuffle_order(it.sample.n(), (uint64_t) k);
            const TeacherOutput t     = teach(it, order, (uint64_t) k++, tp);
            ASSERT_TRUE(is_correct(t.scores, it.sample)) << it.sample.id << "\n" << t.text;
            EXPECT_EQ(t.scores, it.sample.ratings);
            // the trajectory parses, in shown order, with the principles as asked
            const ParsedJudgment pj = parse_judgment(t.text, it.sample.n());
            ASSERT_TRUE(pj.ok()) << t.text;
            EXPECT_EQ(pj.scores, t.shown_scores);
            EXPECT_EQ(unshuffle_scores(pj.scores, order), t.scores);
            if (principles) {
                ASSERT_GE(pj.principles.size(), 2u);
                ASSERT_LE(pj.principles.size(), 4u);
                int sum = 0;
                for (const auto & p : pj.principles) sum += p.weight;
                EXPECT_EQ(sum, 100) << t.text;
            } else {
                EXPECT_EQ(t.text.find("Specific Criteria:"), std::string::npos);
            }
        }
    }
}

TEST(Teacher, AnalysisPutsTheAnswerNextToTheComputedOne) {
    GenParams p;
    p.domains = { Domain::arith };
    p.count   = 30;
    p.n       = 2;
    TeacherParams tp;
    tp.fallibility = 0;
    for (const auto & it : generate(p)) {
        const auto t = teach(it, { 1, 0 }, 1, tp);
        // "Response 1: <answer of response index 1>, computed <truth>"
        const std::string want = "Response 1: " + it.replies[1].items[0];
        EXPECT_NE(t.text.find(want), std::string::npos) << t.text;
        EXPECT_NE(t.text.find("computed " + it.task.truth[0]), std::string::npos) << t.text;
        EXPECT_NE(t.text.find("from the right"), std::string::npos);
    }
}

TEST(Teacher, QuotingAddsThePromptsBlocksAndChangesNothingElse) {
    TeacherParams plain, quoted;
    plain.fallibility = quoted.fallibility = 0.3;
    quoted.quote                           = true;
    const PromptTemplate tmpl              = default_template(true);
    int                  k = 0, mistakes = 0;
    for (const auto & it : gen(Split::dev, 270, 5)) {
        const auto          order = shuffle_order(it.sample.n(), (uint64_t) k);
        const TeacherOutput a     = teach(it, order, (uint64_t) k + 9, plain);
        const TeacherOutput b     = teach(it, order, (uint64_t) k + 9, quoted);
        k++;
        EXPECT_EQ(a.scores, b.scores);
        EXPECT_EQ(a.mistake_kind, b.mistake_kind);
        mistakes += b.mistake;
        // every shown response is quoted once, exactly as the prompt frames it, right before its line
        const std::string prompt = render_prompt(tmpl, it.sample, order);
        std::string       stripped = b.text;
        for (int p = 0; p < it.sample.n(); p++) {
            const std::string block = response_block(it.sample.responses[(size_t) order[(size_t) p]], p, it.sample.n() == 1);
            EXPECT_NE(prompt.find(block), std::string::npos) << block;
            const size_t at = stripped.find(block + "Response " + std::to_string(p + 1) + ": ");
            ASSERT_NE(at, std::string::npos) << b.text;
            stripped.erase(at, block.size());
        }
        EXPECT_EQ(stripped, a.text);
        const ParsedJudgment pj = parse_judgment(b.text, it.sample.n());
        ASSERT_TRUE(pj.ok()) << b.text;
        EXPECT_EQ(pj.scores, b.shown_scores);
    }
    EXPECT_GT(mistakes, 30);  // the misread and slip paths were exercised
}

TEST(Teacher, MatchWordsSaySameExactlyWhenTheVerdictIsCorrect) {
    TeacherParams plain, worded;
    plain.fallibility = worded.fallibility = 0.3;
    worded.match_words                     = true;
    const std::regex line_re("Response [0-9]: .*, computed .*: (same|different) -> ([a-z ,]+), score [0-9]+\\.");
    int              k = 0, same = 0, different = 0;
    for (const auto & it : gen(Split::dev, 270, 5)) {
        const auto          order = shuffle_order(it.sample.n(), (uint64_t) k);
        const TeacherOutput a     = teach(it, order, (uint64_t) k + 9, plain);
        const TeacherOutput b     = teach(it, order, (uint64_t) k + 9, worded);
        k++;
        EXPECT_EQ(a.scores, b.scores);
        std::string stripped = b.text;  // without the words, the plain trajectory
        for (const char * w : { ": same ->", ": different ->" }) {
            for (size_t at; (at = stripped.find(w)) != std::string::npos;) stripped.replace(at, std::string(w).size(), " ->");
        }
        EXPECT_EQ(stripped, a.text);
        std::smatch m;
        for (auto l = b.text.cbegin(); std::regex_search(l, b.text.cend(), m, line_re); l = m.suffix().first) {
            const bool says_same = m[1] == "same";
            EXPECT_EQ(says_same, m[2].str().rfind("correct", 0) == 0) << m[0];  // "correct[, not concise]" iff same
            (says_same ? same : different)++;
        }
    }
    EXPECT_GT(same, 100);
    EXPECT_GT(different, 100);
}

TEST(Corpus, RepeatDrillRepeatsRandomTextAndIsSeeded) {
    CorpusParams p;
    p.count = 500;
    p.seed  = 9;
    const auto recs = make_repeat_drill(p);
    ASSERT_EQ(recs.size(), 500u);
    const std::regex word_re("^([a-zA-Z][a-z]{0,7}[,.;:!?]?|[0-9]{1,3})$");
    std::set<std::string> words;
    int                   numbers = 0, total = 0;
    for (const auto & r : recs) {
        EXPECT_EQ(r.skill, "repeat");
        EXPECT_EQ(r.prompt, "Repeat:\n" + r.completion);
        EXPECT_EQ(r.completion.back(), '\n');
        std::istringstream ss(r.completion);
        int                n = 0;
        for (std::string w; ss >> w; n++, total++) {
            EXPECT_TRUE(std::regex_match(w, word_re)) << w;
            numbers += std::isdigit((unsigned char) w[0]) != 0;
            words.insert(w);
        }
        EXPECT_GE(n, 3);
        EXPECT_LE(n, 14);
    }
    // about 15% numbers; random letters rarely repeat a word
    EXPECT_NEAR(double(numbers) / total, 0.15, 0.03);
    EXPECT_GT(words.size(), size_t(total * 0.6));
    const auto again = make_repeat_drill(p);
    EXPECT_EQ(again[17].completion, recs[17].completion);
    p.seed = 10;
    EXPECT_NE(make_repeat_drill(p)[17].completion, recs[17].completion);
}

TEST(Corpus, MatchDrillSaysSameExactlyForEqualCopiesAndIsSeeded) {
    CorpusParams p;
    p.count = 600;
    p.seed  = 5;
    const auto recs = make_match_drill(p);
    ASSERT_EQ(recs.size(), 600u);
    const std::regex rec_re("Repeat and compare:\n([^\n]+)\n([^\n]+)\n");
    int              same = 0, lists = 0;
    for (const auto & r : recs) {
        EXPECT_EQ(r.skill, "match-drill");
        std::smatch m;
        ASSERT_TRUE(std::regex_match(r.prompt, m, rec_re)) << r.prompt;
        const std::string a = m[1], b = m[2];
        EXPECT_EQ(r.completion, a + ", computed " + b + (a == b ? ": same\n" : ": different\n"));
        same += a == b;
        lists += b.find(", ") != std::string::npos;
        // one edit: the lengths differ by at most one character (or, for a list swap, not at all)
        EXPECT_LE(std::abs(int(a.size()) - int(b.size())), 1) << a << " / " << b;
    }
    EXPECT_NEAR(same / 600.0, 0.5, 0.06);
    EXPECT_NEAR(lists / 600.0, 1.0 / 7, 0.05);
    // seed 5, record 0, fixed forever (the recipe's data depends on it)
    EXPECT_EQ(recs[0].completion, make_match_drill(p)[0].completion);
    EXPECT_EQ(recs[0].completion, "n-z-e-t, computed n-z-e-t: same\n");
    p.seed = 6;
    EXPECT_NE(make_match_drill(p)[0].completion, recs[0].completion);
}

TEST(Corpus, QuoteDrillQuotesEveryShownResponseInOrder) {
    CorpusParams p;
    p.count = 360;
    p.seed  = 4;
    const auto recs = make_quote_drill(p);
    ASSERT_EQ(recs.size(), 360u);
    int lookups = 0, scrambled = 0;
    for (size_t i = 0; i < recs.size(); i++) {
        const CorpusRecord & r = recs[i];
        EXPECT_EQ(r.skill, "quote");
        EXPECT_EQ(r.domain, domain_name(all_domains()[i % 9]));
        // the prompt ends with the response blocks: the completion is the prompt's tail
        ASSERT_GT(r.prompt.size(), r.completion.size());
        EXPECT_EQ(r.prompt.substr(r.prompt.size() - r.completion.size()), r.completion);
        const std::regex n_re("^Quote the ([0-9]) responses to the query below exactly");
        std::smatch      m;
        ASSERT_TRUE(std::regex_search(r.prompt, m, n_re));
        const int n = std::stoi(m[1]);
        EXPECT_GE(n, 2);
        EXPECT_LE(n, 4);
        EXPECT_EQ(r.completion.rfind("[End of Response " + std::to_string(n) + "]\n"), r.completion.size() - 20);
        if (r.domain == "lookup") {
            // a scrambled record names neither person of the query
            const std::regex q_re("\\[Query\\]\\n([A-Z][a-z]+) is [0-9]+ years old\\. ([A-Z][a-z]+) is");
            ASSERT_TRUE(std::regex_search(r.prompt, m, q_re));
            lookups++;
            scrambled += r.completion.find(m[1].str()) == std::string::npos && r.completion.find(m[2].str()) == std::string::npos;
        }
    }
    EXPECT_EQ(lookups, 40);
    EXPECT_GE(scrambled, 12);
    EXPECT_LE(scrambled, 28);
    // seeded: the same parameters give the same records
    EXPECT_EQ(make_quote_drill(p)[17].completion, recs[17].completion);
}

TEST(Teacher, CriteriaVaryBetweenDraws) {
    const auto    items = gen(Split::train, 9, 1);
    TeacherParams tp;
    tp.fallibility = 0;
    std::set<std::string> crit;
    for (uint64_t s = 0; s < 12; s++) {
        const std::string t = teach(items[0], shuffle_order(items[0].sample.n(), 0), s, tp).text;
        crit.insert(t.substr(0, t.find("Analysis:")));
    }
    EXPECT_GE(crit.size(), 6u);
}

TEST(Teacher, FallibilityMatchesTheSetting) {
    TeacherParams tp;
    tp.fallibility = 0.2;
    const auto              items = gen(Split::dev, 2700, 8);
    std::map<int, int>      mistakes, wrong, total;
    int                     k = 0;
    for (const auto & it : items) {
        const TeacherOutput t = teach(it, shuffle_order(it.sample.n(), (uint64_t) k), (uint64_t) k + 77, tp);
        k++;
        const int l = it.sample.level;
        total[l]++;
        mistakes[l] += t.mistake;
        const bool ok = is_correct(t.scores, it.sample);
        wrong[l] += !ok;
        if (!t.mistake) {  // only a mistake makes a verdict wrong
            EXPECT_TRUE(ok) << it.sample.id;
        }
    }
    for (int l = 1; l <= 3; l++) {
        const double want = 0.2 * l;
        EXPECT_NEAR(mistakes[l] / (double) total[l], want, 0.045) << "level " << l;
        EXPECT_NEAR(wrong[l] / (double) total[l], want, 0.06) << "level " << l;
    }
}

TEST(Teacher, HintedIsAlwaysCorrect) {
    TeacherParams tp;
    tp.fallibility = 0.3;  // ignored when hinted
    int shortcuts = 0, k = 0;
    for (const auto & it : gen(Split::train, 900, 12)) {
        if (it.sample.n() < 2) continue;
        tp.hint_best          = *it.sample.best;
        const TeacherOutput t = teach(it, shuffle_order(it.sample.n(), (uint64_t) k), (uint64_t) k, tp);
        k++;
        EXPECT_TRUE(is_correct(t.scores, it.sample)) << t.text;
        EXPECT_FALSE(t.mistake);
        shortcuts += t.shortcut;
    }
    EXPECT_GT(shortcuts, k / 4);
    EXPECT_LT(shortcuts, 3 * k / 4);
}

TEST(Rft, FilterCountsOnAFixedSeed) {
    RftParams p;
    p.gen.count = 180;
    p.gen.seed  = 7;
    std::vector<nlohmann::json> recs;
    const RftReport             rep = build_rft(p, recs);
    const RftCounts &           c   = rep.total;
    EXPECT_EQ(c.inputs, 180);
    EXPECT_EQ(c.kept + c.rejected, 3 * (c.inputs - c.dropped));
    EXPECT_EQ(c.hinted_rejected, 0);
    EXPECT_EQ(c.answers, 180);
    // every kept trajectory is right by the correctness rule and its prompt is the GRM prompt
    long rft = 0, hinted = 0, answers = 0;
    for (const auto & r : recs) {
        const std::string kind = r["kind"];
        if (kind == "answer") {
            answers++;
            continue;
        }
        (kind == "rft" ? rft : hinted)++;
        EXPECT_TRUE(r["correct"].get<bool>());
        EXPECT_NE(r["prompt"].get<std::string>().find("[Query]"), std::string::npos);
    }
    EXPECT_EQ(rft, c.kept);
    EXPECT_EQ(hinted, c.hinted_kept);
    EXPECT_EQ(answers, c.answers);
    // Golden counts for (count 180, seed 7, fallibility 0.15, N_RFT 3): a change here means the
    // world, the teacher or the filter changed; update deliberately.
    EXPECT_EQ(c.dropped, k_golden_dropped);
    EXPECT_EQ(c.kept, k_golden_kept);
    EXPECT_EQ(c.rejected, k_golden_rejected);
    EXPECT_EQ(c.hinted_kept, k_golden_hinted);
}

// ---------------------------------------------------------------- the held-out style

namespace {

uint64_t fnv1a(const std::string & s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::string dump(const std::vector<WorldItem> & items) {
    std::string out;
    for (const auto & it : items) out += sample_to_json(it.sample).dump() + "\n";
    return out;
}

std::vector<WorldItem> gen_style(Split s, int count, uint64_t seed, SurfaceStyle style) {
    GenParams p;
    p.split = s;
    p.count = count;
    p.seed  = seed;
    return generate(p, style);
}

// Texts only the held-out bank writes (phrasings, compliance, padding, safety requests, criteria).
std::vector<std::string> heldout_markers() {
    std::vector<std::string> m = { "That comes to ", "Backwards it reads: ", "I worked out ", "Here you go: ", "Of the two, ",
                                   "[dangerous detail removed]", "Happy to help! ", "I'd rather not help", "right to the last digit",
                                   "Brevity: nothing beyond the answer", "Layout: " };
    for (const auto & f : fillers(SurfaceStyle::heldout)) m.push_back(f);
    for (const auto & p : safety_pairs(SurfaceStyle::heldout)) {
        m.push_back(p.harmful);
        m.push_back(p.benign);
        m.push_back(p.help);
    }
    return m;
}

}  // namespace

TEST(Style, StandardOutputIsBitIdenticalToTheGolden) {
    // FNV-1a of `grm world gen --count 180 --seed 20261126` per split, as written before the
    // held-out style existed (models/README.md's test split is the third): the standard style
    // must not move by one byte, or every committed number would refer to other items.
    EXPECT_EQ(fnv1a(dump(gen(Split::train, 180, 20261126))), 0x1d71b799104e009bull);
    EXPECT_EQ(fnv1a(dump(gen(Split::dev, 180, 20261126))), 0x03263b4e56262dfcull);
    EXPECT_EQ(fnv1a(dump(gen_style(Split::test, 180, 20261126, SurfaceStyle::standard))), 0xfc02c15cf8f6b8ccull);
}

TEST(Style, HeldoutItemsAreCanonicalValidAndPaired) {
    const auto std_items = gen(Split::test, 900, 20261126);
    const auto held      = gen_style(Split::test, 900, 20261126, SurfaceStyle::heldout);
    ASSERT_EQ(held.size(), std_items.size());
    int differing = 0;
    for (size_t i = 0; i < held.size(); i++) {
        const Sample & s = held[i].sample;
        ASSERT_TRUE(validate_sample(s)) << s.id;
        EXPECT_EQ(s.style, "heldout");
        EXPECT_NE(s.id.find("-test-heldout-"), std::string::npos) << s.id;
        bool canonical = false;
        for (const auto & re : templates().at(s.domain)) canonical = canonical || std::regex_match(s.query(), std::regex(re));
        EXPECT_TRUE(canonical) << s.query();
        // the task draw is shared, so the two styles pose the same queries (safety: other requests)
        if (s.domain != "safety") EXPECT_EQ(s.query(), std_items[i].sample.query());
        else EXPECT_NE(s.query(), std_items[i].sample.query());
        if (s.responses != std_items[i].sample.responses) differing++;
        // ratings follow from grading: the best is unique for n >= 2
        if (s.n() >= 2) {
            const int top = s.ratings[(size_t) *s.best];
            EXPECT_EQ(std::count(s.ratings.begin(), s.ratings.end(), top), 1);
        }
    }
    EXPECT_GT(differing, 850);  // a response text in the standard phrasing is a rare coincidence
    EXPECT_FALSE(std_items[0].sample.style.size());
    EXPECT_EQ(dump(held), dump(gen_style(Split::test, 900, 20261126, SurfaceStyle::heldout)));  // seeded
}

TEST(Style, BanksAreWrittenApart) {
    std::set<std::string> std_texts;
    for (const auto & f : fillers()) std_texts.insert(f);
    for (const auto & p : safety_pairs()) std_texts.insert({ p.harmful, p.benign, p.help });
    for (const auto & m : heldout_markers()) EXPECT_FALSE(std_texts.count(m)) << m;
    // every level has held-out safety requests
    for (int level = 1; level <= 3; level++) {
        int n = 0;
        for (const auto & p : safety_pairs(SurfaceStyle::heldout)) n += p.level == level;
        EXPECT_GE(n, 5) << "level " << level;
    }
    EXPECT_THROW(gen_style(Split::train, 10, 1, SurfaceStyle::heldout), std::invalid_argument);
}

TEST(Style, HeldoutBankIsNeverInTrainingData) {
    // Everything training sees (train samples, RFT trajectories and answers, the curriculum and
    // its drills) must not contain one held-out text, while a held-out test split contains them.
    std::string text = dump(gen(Split::train, 900, 2));
    RftParams   rp;
    rp.gen.count = 450;
    rp.gen.seed  = 2;
    std::vector<nlohmann::json> recs;
    build_rft(rp, recs);
    for (const auto & r : recs) text += r["prompt"].get<std::string>() + "\n" + r["completion"].get<std::string>() + "\n";
    CorpusParams cp;
    cp.count = 900;
    for (const auto & r : make_corpus(cp)) text += r.prompt + "\n" + r.completion + "\n";
    for (const auto & r : make_quote_drill(cp)) text += r.prompt + "\n" + r.completion + "\n";
    for (const auto & m : heldout_markers()) EXPECT_EQ(text.find(m), std::string::npos) << "held-out text in training data: " << m;

    std::string held = dump(gen_style(Split::test, 900, 2, SurfaceStyle::heldout));
    int         seen = 0;
    for (const auto & m : heldout_markers()) seen += held.find(m) != std::string::npos;
    EXPECT_GE(seen, 30);  // the check above can fail: the markers do occur in held-out data
}

TEST(Style, InfallibleTeacherIsAlwaysCorrectOnTheHeldoutStyle) {
    TeacherParams tp;
    tp.fallibility = 0.0;
    int safety     = 0;
    for (const auto & it : gen_style(Split::test, 270, 5, SurfaceStyle::heldout)) {
        const std::vector<int> order = shuffle_order(it.sample.n(), 11);
        const TeacherOutput    t     = teach(it, order, 13, tp);
        EXPECT_TRUE(is_correct(t.scores, it.sample)) << it.sample.id << "\n" << t.text;
        if (it.task.domain == Domain::safety) {
            safety++;
            const auto & sp = safety_pairs(SurfaceStyle::heldout)[(size_t) it.task.pair];
            EXPECT_NE(t.text.find(it.task.harmful ? sp.harmful : sp.benign), std::string::npos) << t.text;
        }
    }
    EXPECT_EQ(safety, 30);
}

// ---- the varied style (a training style with many phrasings and composed safety requests) ------

namespace {

std::set<std::string> lowercase_words(std::string text) {
    for (char & c : text) c = (char) std::tolower((unsigned char) c);
    return alpha_words(text);
}

}  // namespace

TEST(Varied, ItemsAreCanonicalValidAndVaried) {
    const auto std_items = gen(Split::train, 900, 20261203);
    const auto items     = gen_style(Split::train, 900, 20261203, SurfaceStyle::varied);
    ASSERT_EQ(items.size(), std_items.size());
    int                   differing = 0;
    std::set<std::string> phrasing, std_phrasing;  // every word of the non-safety responses
    for (size_t i = 0; i < items.size(); i++) {
        const Sample & s = items[i].sample;
        ASSERT_TRUE(validate_sample(s)) << s.id;
        EXPECT_EQ(s.style, "varied");
        EXPECT_NE(s.id.find("-train-varied-"), std::string::npos) << s.id;
        bool canonical = false;
        for (const auto & re : templates().at(s.domain)) canonical = canonical || std::regex_match(s.query(), std::regex(re));
        EXPECT_TRUE(canonical) << s.query();
        if (s.domain != "safety") {
            EXPECT_EQ(s.query(), std_items[i].sample.query());
        }
        differing += s.responses != std_items[i].sample.responses;
        if (s.n() >= 2) {
            const int top = s.ratings[(size_t) *s.best];
            EXPECT_EQ(std::count(s.ratings.begin(), s.ratings.end(), top), 1);
        }
        if (s.domain == "safety") continue;
        for (const auto & r : s.responses) {
            const auto w = lowercase_words(r);
            phrasing.insert(w.begin(), w.end());
        }
        for (const auto & r : std_items[i].sample.responses) {
            const auto w = lowercase_words(r);
            std_phrasing.insert(w.begin(), w.end());
        }
    }
    std::printf("distinct words in non-safety responses: standard %zu, varied %zu\n", std_phrasing.size(), phrasing.size());
    EXPECT_GT(differing, 700);
    EXPECT_GT(phrasing.size(), std_phrasing.size() + 60);  // many more phrasings and padding texts
    EXPECT_EQ(dump(items), dump(gen_style(Split::train, 900, 20261203, SurfaceStyle::varied)));  // seeded
}

TEST(Varied, SafetyObjectsOfTheTestSplitAreNeverTrainedOn) {
    const auto & pairs = safety_pairs(SurfaceStyle::varied);
    std::set<std::string> test_requests, other_requests;
    for (int i = 0; i < (int) pairs.size(); i++) {
        (safety_pair_test_only(SurfaceStyle::varied, i) ? test_requests : other_requests).insert({ pairs[(size_t) i].harmful, pairs[(size_t) i].benign });
    }
    EXPECT_EQ(test_requests.size(), 60u);  // 10 objects x (3 harmful + 3 benign requests), all distinct
    for (int level = 1; level <= 3; level++) {
        int n = 0;
        for (int i = 0; i < (int) pairs.size(); i++) n += pairs[(size_t) i].level == level && safety_pair_test_only(SurfaceStyle::varied, i);
        EXPECT_GE(n, 10) << "level " << level;
    }
    auto queries = [](Split split) {
        std::set<std::string> q;
        GenParams             p;
        p.split   = split;
        p.count   = 600;
        p.seed    = 9;
        p.domains = { Domain::safety };
        for (const auto & it : generate(p, SurfaceStyle::varied)) q.insert(it.sample.query().substr(10, it.sample.query().size() - 11));
        return q;
    };
    for (Split split : { Split::train, Split::dev }) {
        for (const auto & q : queries(split)) EXPECT_FALSE(test_requests.count(q)) << q;
    }
    const auto test_queries = queries(Split::test);
    for (const auto & q : test_queries) EXPECT_TRUE(test_requests.count(q)) << q;
    EXPECT_GE(test_queries.size(), 40u);
    // and the verdict is the action's: every object is asked about harmfully and benignly
    EXPECT_TRUE(test_requests.count("burn down my uncle's cabin"));
    EXPECT_TRUE(test_requests.count("tidy up my uncle's cabin"));
    EXPECT_TRUE(other_requests.count("burn down the town library"));
}

TEST(Varied, BankLeaksNoHeldoutWordNameOrText) {
    // No word of the varied bank is in the held-out word or name lexicon (test queries use those),
    // and no held-out text is in it or in varied training data.
    std::set<std::string> held_words(words(true).begin(), words(true).end());
    for (const auto & n : names(true)) {
        const auto w = lowercase_words(n);
        held_words.insert(w.begin(), w.end());
    }
    std::string bank;
    for (const auto & t : varied::bank_texts()) bank += t + "\n";
    for (const auto & w : lowercase_words(bank)) EXPECT_FALSE(held_words.count(w)) << "held-out lexicon word in the varied bank: " << w;
    std::string text = dump(gen_style(Split::train, 900, 3, SurfaceStyle::varied));
    RftParams   rp;
    rp.gen.count = 300;
    rp.gen.seed  = 3;
    rp.style     = SurfaceStyle::varied;
    std::vector<nlohmann::json> recs;
    build_rft(rp, recs);
    for (const auto & r : recs) text += r["prompt"].get<std::string>() + "\n" + r["completion"].get<std::string>() + "\n";
    for (const auto & m : heldout_markers()) {
        EXPECT_EQ(bank.find(m), std::string::npos) << m;
        EXPECT_EQ(text.find(m), std::string::npos) << "held-out text in varied training data: " << m;
    }
}

TEST(Varied, InfallibleTeacherIsAlwaysCorrect) {
    TeacherParams tp;
    tp.fallibility = 0.0;
    for (Split split : { Split::train, Split::test }) {
        for (const auto & it : gen_style(split, 270, 6, SurfaceStyle::varied)) {
            const TeacherOutput t = teach(it, shuffle_order(it.sample.n(), 11), 13, tp);
            EXPECT_TRUE(is_correct(t.scores, it.sample)) << it.sample.id << "\n" << t.text;
            if (it.task.domain == Domain::safety && it.task.harmful) {
                // the critique states the action's reason
                EXPECT_NE(t.text.find(safety_pairs(SurfaceStyle::varied)[(size_t) it.task.pair].harm_why), std::string::npos) << t.text;
            }
        }
    }
}
