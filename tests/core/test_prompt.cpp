// Prompt rendering: placeholders, response blocks in shown order, hints, template files.
#include "core/prompt.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

using namespace grm;

namespace {

Sample two() {
    Sample s;
    s.conversation = { { "system", "Be brief." }, { "user", "What is 2 + 2?" } };
    s.responses    = { "4", "5" };
    return s;
}

std::string write(const std::string & text) {
    std::string   path = "/tmp/grm-template-" + std::to_string(rand()) + ".txt";
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST(Prompt, CustomTemplateRendersEveryPlaceholder) {
    PromptTemplate t{ "N={n}\n{conversation}Q={query}\n{responses}{hint}\\boxed{x}", "", "" };
    std::string    p = render_prompt(t, two(), { 1, 0 }, 0);
    EXPECT_EQ(p,
              "N=2\n[Conversation]\nSystem: Be brief.\n[End of Conversation]\n\nQ=What is 2 + 2?\n"
              "[Response 1]\n5\n[End of Response 1]\n[Response 2]\n4\n[End of Response 2]\n"
              "(Hint: Response 1 is the best one.)\n\\boxed{x}");
}

TEST(Prompt, DefaultTemplateAsksForTheThreeParts) {
    std::string p = render_prompt(default_template(), two(), { 0, 1 });
    for (const char * part : { "Specific Criteria:", "Analysis:", "Scores:", "\\boxed{s1, ..., s2}", "[Response 2]\n5\n[End of Response 2]" }) {
        EXPECT_NE(p.find(part), std::string::npos) << part;
    }
    std::string plain = render_prompt(default_template(false), two(), { 0, 1 });
    EXPECT_EQ(plain.find("Specific Criteria"), std::string::npos);
    Sample one = two();
    one.responses = { "4" };
    std::string single = render_prompt(default_template(), one, { 0 });
    EXPECT_NE(single.find("[Response]\n4\n[End of Response]"), std::string::npos);
    EXPECT_NE(single.find("\\boxed{s}"), std::string::npos);
}

TEST(Prompt, TemplateFileWithSingleSection) {
    auto t = load_template(write("multi {responses}\n=== single ===\nsingle {response}"));
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    EXPECT_EQ(t->multi, "multi {responses}");
    EXPECT_EQ(t->single, "single {response}");
    EXPECT_EQ(t->binary, "");  // no 0/1 variant unless the file gives one
}

TEST(Prompt, BinaryVariantForOneResponse) {
    Sample one    = two();
    one.responses = { "4" };
    one.label     = 1;
    const std::string p = render_prompt(default_template(), one, { 0 }, std::nullopt, true);
    EXPECT_NE(p.find("score the response 1 if it is correct and acceptable, 0 if not, as \\boxed{s}"), std::string::npos) << p;
    EXPECT_NE(p.find("[Response]\n4\n[End of Response]"), std::string::npos);
    EXPECT_NE(render_prompt(default_template(false), one, { 0 }, std::nullopt, true).find("0 if not"), std::string::npos);
    EXPECT_NE(render_prompt(default_template(), one, { 0 }, 0, true).find("(Hint: the response is acceptable.)"), std::string::npos);
    // Without binary, or with two responses, the 1..10 prompts as before.
    EXPECT_EQ(render_prompt(default_template(), one, { 0 }).find("0 if not"), std::string::npos);
    EXPECT_EQ(render_prompt(default_template(), two(), { 0, 1 }, std::nullopt, true), render_prompt(default_template(), two(), { 0, 1 }));

    auto t = load_template(write("m {responses}\n=== single ===\ns {response}\n=== binary ===\nb {response} {hint}"));
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    one.label = 0;
    EXPECT_EQ(render_prompt(*t, one, { 0 }, 0, true), "b 4 (Hint: the response is not acceptable.)\n");
    EXPECT_EQ(render_prompt(*t, one, { 0 }), "s 4");
    auto bad = load_template(write("{responses}\n=== binary ===\n{responses} {i}"));
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("(binary): unknown placeholder {i}"), std::string::npos) << bad.error().message;
}

TEST(Prompt, TemplateFileErrorsNameTheProblem) {
    auto unknown = load_template(write("{responses} {qurey}"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("unknown placeholder {qurey}"), std::string::npos) << unknown.error().message;
    auto none = load_template(write("no placeholders"));
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().message.find("no {responses}"), std::string::npos);
    auto missing = load_template("/nonexistent/t.txt");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST(Prompt, PaperLayoutTemplate) {
    // templates/paper-layout.txt: the DeepSeek-GRM paper's layout (Appendix G) in grm's words.
    auto t = load_template(std::string(GRM_SOURCE_DIR) + "/templates/paper-layout.txt");
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    EXPECT_EQ(t->block, "[The Begin of Response {i}]\n{response}\n[The End of Response {i}]\n");
    EXPECT_EQ(t->hint, "The best response is: Response {i}\n");
    std::string p = render_prompt(*t, two(), { 1, 0 }, 1);
    EXPECT_NE(p.find("\n#### Conversation Context ####\nSystem: Be brief.\nUser: What is 2 + 2?\n\n"
                     "#### Responses to be Scored ####\n"
                     "[The Begin of Response 1]\n5\n[The End of Response 1]\n"
                     "[The Begin of Response 2]\n4\n[The End of Response 2]\n\n"
                     "#### Output Format Requirements ####\n"),
              std::string::npos)
        << p;
    const std::string tail = "as \\boxed{S1, S2, ...}>\nThe best response is: Response 2\n";
    ASSERT_GE(p.size(), tail.size());
    EXPECT_EQ(p.substr(p.size() - tail.size()), tail);  // the hint is appended to the input
    Sample one    = two();
    one.responses = { "4" };
    std::string single = render_prompt(*t, one, { 0 });
    EXPECT_NE(single.find("#### Response to be Scored ####\n[The Begin of Response]\n4\n[The End of Response]\n"), std::string::npos);
    const std::string single_tail = "as \\boxed{S}>\n";
    EXPECT_EQ(single.substr(single.size() - single_tail.size()), single_tail);
    const std::string binary      = render_prompt(*t, one, { 0 }, std::nullopt, true);
    const std::string binary_tail = "Scores: <1 if the response is correct, 0 if it is not, as \\boxed{S}>\n";
    ASSERT_GE(binary.size(), binary_tail.size());
    EXPECT_EQ(binary.substr(binary.size() - binary_tail.size()), binary_tail);
    EXPECT_EQ(binary.substr(0, binary.size() - binary_tail.size()), single.substr(0, single.size() - std::string("Scores: <one integer from 1 to 10, as \\boxed{S}>\n").size()));
}

TEST(Prompt, BlockAndHintSections) {
    auto t = load_template(write("{n}: {responses}{hint}.\n=== block ===\n<{i}|{response}>\n=== hint ===\n best={i}"));
    ASSERT_TRUE(t.ok()) << t.error().to_string();
    Sample s = two();
    s.responses = { "{i} stays", "{response} too" };  // inserted text is never scanned for placeholders
    EXPECT_EQ(render_prompt(*t, s, { 1, 0 }, 0), "2: <1|{response} too><2|{i} stays> best=1.");
    EXPECT_EQ(render_prompt(*t, s, { 0, 1 }), "2: <1|{i} stays><2|{response} too>.");
}

TEST(Prompt, SectionErrorsNameTheProblem) {
    auto unknown = load_template(write("{responses}\n=== blocks ===\nx"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("unknown section '=== blocks ==='"), std::string::npos) << unknown.error().message;
    auto twice = load_template(write("{responses}\n=== hint ===\n{i}\n=== hint ===\n{i}"));
    ASSERT_FALSE(twice.ok());
    EXPECT_NE(twice.error().message.find("given twice"), std::string::npos) << twice.error().message;
    auto no_response = load_template(write("{responses}\n=== block ===\n[{i}]"));
    ASSERT_FALSE(no_response.ok());
    EXPECT_NE(no_response.error().message.find("(block): has no {response} placeholder"), std::string::npos);
    auto i_in_prompt = load_template(write("{responses} {i}"));
    ASSERT_FALSE(i_in_prompt.ok());
    EXPECT_NE(i_in_prompt.error().message.find("unknown placeholder {i}"), std::string::npos) << i_in_prompt.error().message;
    auto query_in_hint = load_template(write("{responses}\n=== hint ===\n{query}"));
    ASSERT_FALSE(query_in_hint.ok());
    EXPECT_NE(query_in_hint.error().message.find("(hint): unknown placeholder {query} (known here: i)"), std::string::npos)
        << query_in_hint.error().message;
}
