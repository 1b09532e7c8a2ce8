// The judging pipeline with a rule engine: a test engine that reads each prompt and scores the
// shown responses by a fixed rule, so shuffling, mapping back and voting can be checked exactly.
#include "core/judge.h"

#include <gtest/gtest.h>

#include <set>

using namespace grm;

namespace {

// Scores a shown response 9 if it is "85", else 2, in shown order; the n-th sample of a request
// fails to box when fail_every divides its index + 1.
class RuleEngine : public Engine {
  public:
    int         fail_every = 0;
    std::string describe() const override { return "rule engine"; }
    std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & reqs) override {
        std::vector<GenerationResult> out;
        for (const auto & r : reqs) {
            std::vector<Generation> gens;
            for (size_t i = 0; i < r.prompts.size(); i++) {
                const std::string & p = r.prompts[i];
                std::string         scores;
                for (int k = 1;; k++) {
                    std::string open = "[Response " + std::to_string(k) + "]\n";
                    size_t      at   = p.find(open);
                    if (at == std::string::npos) break;
                    std::string body = p.substr(at + open.size(), p.find('\n', at + open.size()) - at - open.size());
                    scores += (scores.empty() ? "" : ", ") + std::string(body == "85" ? "9" : "2");
                }
                Generation g;
                g.text = fail_every && (i + 1) % fail_every == 0 ? "Analysis: unsure" : "Analysis: checked.\nScores: \\boxed{" + scores + "}";
                gens.push_back(g);
            }
            out.emplace_back(std::move(gens));
        }
        return out;
    }
};

Sample sample(std::string id) {
    Sample s;
    s.id           = std::move(id);
    s.conversation = { { "user", "What is 47 + 38?" } };
    s.responses    = { "75", "84", "85", "58" };
    s.ratings      = { 2, 3, 10, 1 };
    s.best         = 2;
    return s;
}

}  // namespace

TEST(Judge, ShuffledSamplesMapBackAndVote) {
    RuleEngine  e;
    JudgeParams p;
    p.k    = 8;
    p.seed = 1;
    auto r = judge_batch(e, { sample("a") }, p);
    ASSERT_TRUE(r[0].ok());
    const Judgment & j = *r[0];
    std::set<std::vector<int>> orders;
    for (const auto & t : j.samples) {
        EXPECT_EQ(t.scores, (std::vector<int>{ 2, 2, 9, 2 }));  // original order whatever was shown
        orders.insert(t.order);
    }
    EXPECT_GT(orders.size(), 4u);  // positions really are shuffled per sample
    EXPECT_EQ(j.rewards, (std::vector<double>{ 16, 16, 72, 16 }));
    EXPECT_EQ(j.best, 2);
}

TEST(Judge, SeedsReproduceAndDiffer) {
    RuleEngine  e;
    JudgeParams p;
    p.k      = 4;
    p.seed   = 1;
    auto a   = judge_batch(e, { sample("a") }, p);
    auto b   = judge_batch(e, { sample("a") }, p);
    p.seed   = 2;
    auto c   = judge_batch(e, { sample("a") }, p);
    auto ord = [](const Judgment & j) {
        std::vector<std::vector<int>> o;
        for (auto & t : j.samples) o.push_back(t.order);
        return o;
    };
    EXPECT_EQ(ord(*a[0]), ord(*b[0]));
    EXPECT_NE(ord(*a[0]), ord(*c[0]));
}

TEST(Judge, UnscorableSamplesAreCountedNotScored) {
    RuleEngine e;
    e.fail_every = 2;
    JudgeParams p;
    p.k    = 4;
    auto r = judge_batch(e, { sample("a"), sample("b") }, p);
    for (auto & j : r) {
        ASSERT_TRUE(j.ok());
        EXPECT_EQ(j->n_valid, 2);
        EXPECT_EQ(j->unscorable.at("no_box"), 2);
        EXPECT_EQ(j->rewards, (std::vector<double>{ 4, 4, 18, 4 }));
    }
}

TEST(Judge, HintNamesTheBestResponseWhereverItIsShown) {
    class Capture : public RuleEngine {
      public:
        std::vector<std::string> prompts;
        std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & reqs) override {
            for (auto & r : reqs) prompts.insert(prompts.end(), r.prompts.begin(), r.prompts.end());
            return RuleEngine::generate(reqs);
        }
    } e;
    JudgeParams p;
    p.k         = 6;
    p.hint_best = 2;
    auto r      = judge_batch(e, { sample("h") }, p);
    ASSERT_TRUE(r[0].ok());
    for (size_t i = 0; i < e.prompts.size(); i++) {
        int pos = 0;
        while (r[0]->samples[i].order[pos] != 2) pos++;
        EXPECT_NE(e.prompts[i].find("(Hint: Response " + std::to_string(pos + 1) + " is the best one.)"), std::string::npos);
    }
}

TEST(Judge, BinarySingleAsksForAndReadsZeroOrOne) {
    // Answers "\boxed{0}" to a prompt that asks for 0/1, "\boxed{3, 3, 3, 3}" to any other.
    class Binary : public Engine {
      public:
        std::string describe() const override { return "binary engine"; }
        std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & reqs) override {
            std::vector<GenerationResult> out;
            for (const auto & r : reqs) {
                std::vector<Generation> gens;
                for (const auto & p : r.prompts) {
                    Generation g;
                    g.text = p.find("0 if not") != std::string::npos ? "Scores: \\boxed{0}" : "Scores: \\boxed{3, 3, 3, 3}";
                    gens.push_back(g);
                }
                out.emplace_back(std::move(gens));
            }
            return out;
        }
    } e;
    Sample one    = sample("one");
    one.responses = { "84" };
    one.ratings.clear();
    one.best.reset();
    one.label = 0;
    JudgeParams p;
    p.k             = 3;
    p.binary_single = true;
    auto r          = judge_batch(e, { one, sample("four") }, p);
    ASSERT_TRUE(r[0].ok()) << r[0].error().to_string();
    EXPECT_EQ(r[0]->n_valid, 3);
    EXPECT_EQ(r[0]->rewards, std::vector<double>{ 0 });
    ASSERT_TRUE(r[1].ok());  // n >= 2 is judged 1..10 as always
    EXPECT_EQ(r[1]->rewards, (std::vector<double>{ 9, 9, 9, 9 }));

    p.prompt.binary.clear();  // a template without the 0/1 variant: that sample fails, the batch goes on
    r = judge_batch(e, { one, sample("four") }, p);
    ASSERT_FALSE(r[0].ok());
    EXPECT_NE(r[0].error().message.find("no 0/1 variant"), std::string::npos) << r[0].error().message;
    EXPECT_TRUE(r[1].ok());
}
