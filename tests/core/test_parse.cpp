// Parser golden table: tests/core/parse_golden.jsonl holds generations and their expected parse.
#include "core/parse.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace grm;

TEST(Parse, GoldenTable) {
    std::ifstream in(std::string(GRM_SOURCE_DIR) + "/tests/core/parse_golden.jsonl");
    ASSERT_TRUE(in.good());
    std::string line;
    int         cases = 0;
    while (std::getline(in, line)) {
        auto         c      = nlohmann::json::parse(line);
        std::string  name   = c["name"];
        std::string  f      = c["finish"];
        FinishReason finish = f == "length" ? FinishReason::length : f == "error" ? FinishReason::error : FinishReason::stop;
        auto         r      = parse_judgment(c["text"], c["n"], finish, c.value("clip", false));
        EXPECT_EQ(unscorable_name(r.reason), c["reason"].get<std::string>()) << name << ": " << r.detail;
        if (c.contains("scores")) {
            EXPECT_EQ(r.scores, c["scores"].get<std::vector<int>>()) << name;
        }
        if (!r.ok()) {
            EXPECT_TRUE(r.scores.empty()) << name;
            EXPECT_FALSE(r.detail.empty()) << name;
        }
        if (c.contains("principles")) {
            ASSERT_EQ(r.principles.size(), c["principles"].size()) << name;
            for (size_t i = 0; i < r.principles.size(); i++) {
                EXPECT_EQ(r.principles[i].text, c["principles"][i][0].get<std::string>()) << name;
                EXPECT_EQ(r.principles[i].weight, c["principles"][i][1].get<int>()) << name;
            }
        }
        EXPECT_EQ(r.clipped, c.value("clipped", 0)) << name;
        if (c.contains("analysis")) {
            EXPECT_EQ(r.analysis, c["analysis"].get<std::string>()) << name;
        }
        cases++;
    }
    EXPECT_EQ(cases, 21);
}

TEST(Parse, DetailsNameTheProblem) {
    EXPECT_EQ(parse_judgment("\\boxed{4}", 2).detail, "expected 2 scores, got 1");
    EXPECT_EQ(parse_judgment("\\boxed{4, 12}", 2).detail, "score 12 outside 1..10");
    EXPECT_EQ(parse_judgment("\\boxed{4, x}", 2).detail, "box entry 'x' is not an integer");
}

TEST(Parse, BinaryVariantReadsZeroAndOne) {
    // The 0/1 variant for one response: 0 is a score there, 2 is out of range; 1..10 elsewhere.
    auto zero = parse_judgment("Analysis: wrong sum.\nScores: \\boxed{0}", 1, FinishReason::stop, false, true);
    ASSERT_TRUE(zero.ok()) << zero.detail;
    EXPECT_EQ(zero.scores, std::vector<int>{ 0 });
    EXPECT_EQ(parse_judgment("\\boxed{1}", 1, FinishReason::stop, false, true).scores, std::vector<int>{ 1 });
    auto two = parse_judgment("\\boxed{2}", 1, FinishReason::stop, false, true);
    EXPECT_EQ(two.reason, Unscorable::out_of_range);
    EXPECT_EQ(two.detail, "score 2 outside 0..1");
    auto clipped = parse_judgment("\\boxed{7}", 1, FinishReason::stop, true, true);
    EXPECT_EQ(clipped.scores, std::vector<int>{ 1 });
    EXPECT_EQ(clipped.clipped, 1);
    EXPECT_EQ(parse_judgment("\\boxed{0}", 1).detail, "score 0 outside 1..10");
}
