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
    PromptTemplate t{ "N={n}\n{conversation}Q={query}\n{responses}{hint}\\boxed{x}", "" };
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
