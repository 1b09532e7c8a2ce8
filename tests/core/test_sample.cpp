// Sample format: parsing, validation errors that name the field, JSONL files with line numbers.
#include "core/sample.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace grm;
using json = nlohmann::json;

namespace {

std::string error_of(const std::string & text) {
    auto s = sample_from_json(json::parse(text));
    return s.ok() ? "" : s.error().message;
}

}  // namespace

TEST(Sample, RoundTrip) {
    const char * line = R"({"id":"jw-arith-000123","source":"judgeworld","domain":"arith","level":2,)"
                        R"("conversation":[{"role":"user","content":"What is 47 + 38?"}],)"
                        R"("responses":["47 + 38 = 85.","75"],"ratings":[10,3],"best":0})";
    auto s = sample_from_json(json::parse(line));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    EXPECT_EQ(s->query(), "What is 47 + 38?");
    EXPECT_EQ(s->n(), 2);
    EXPECT_EQ(s->best, 0);
    EXPECT_EQ(sample_to_json(*s), json::parse(line));
}

TEST(Sample, ErrorsNameTheField) {
    EXPECT_EQ(error_of(R"({"responses":["a"]})"), "field 'conversation': missing (give 'conversation' or 'query')");
    EXPECT_EQ(error_of(R"({"query":"q"})"), "field 'responses': missing");
    EXPECT_EQ(error_of(R"({"query":"q","responses":[]})"), "field 'responses': is empty (need at least one response)");
    EXPECT_EQ(error_of(R"({"query":"q","responses":["a", 3]})"), "field 'responses[1]': expected a string, got number");
    EXPECT_EQ(error_of(R"({"query":"q","responses":["a","b"],"ratings":[3]})"), "field 'ratings': has 1 entries for 2 responses");
    EXPECT_EQ(error_of(R"({"query":"q","responses":["a","b"],"best":2})"), "field 'best': index 2 out of range for 2 responses");
    EXPECT_EQ(error_of(R"({"query":"q","responses":["a","b"],"ratings":[5,5],"best":0})"), "field 'best': rating is not strictly highest");
    EXPECT_EQ(error_of(R"({"conversation":[{"role":"assistant","content":"x"}],"responses":["a"]})"),
              "field 'conversation': last turn must have role 'user'");
    EXPECT_EQ(error_of(R"({"query":"q","responses":["a"],"ratings":[11]})"), "field 'ratings': value 11 outside 1..10");
}

TEST(Sample, InvalidUtf8IsRejected) {
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xf0\x9f\x99\x82"));
    EXPECT_FALSE(is_valid_utf8("\xc3"));
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
    json j = { { "query", "q" }, { "responses", { std::string("bad \xff") } } };
    auto s = sample_from_json(j);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().message, "field 'responses[0]': invalid UTF-8");
}

TEST(Sample, JsonlErrorsCarryFileAndLine) {
    std::string path = "/tmp/grm-samples-test.jsonl";
    std::ofstream(path) << R"({"query":"q","responses":["a"]})" << "\n\n{not json\n" << R"({"query":"q"})" << "\n";
    auto strict = read_samples_jsonl(path);
    ASSERT_FALSE(strict.ok());
    EXPECT_EQ(strict.error().message, path + ":3: malformed JSON");
    auto lenient = read_samples_jsonl(path, true);
    ASSERT_TRUE(lenient.ok());
    EXPECT_EQ(lenient->samples.size(), 1u);
    ASSERT_EQ(lenient->skipped.size(), 2u);
    EXPECT_EQ(lenient->skipped[1], path + ":4: field 'responses': missing");
    EXPECT_EQ(lenient->samples[0].id, path + ":1");
}
