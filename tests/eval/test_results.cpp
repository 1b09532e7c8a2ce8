// The results file: JSON round trip, resume after a kill (torn last line), no duplicates.
#include "eval/results.h"
#include "eval_test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace grm;
using grm::test::record;
using grm::test::TempDir;
using grm::test::traj;

namespace {

std::string read_all(const std::string & p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST(Results, JsonRoundTrip) {
    EvalRecord r = record("id-1", 2, 1, { traj({ 3, 9 }, "none", 0.25), traj({}, "truncated") }, "sort", 3);
    r.trajectories[0].order = { 1, 0 };
    r.truth.ratings         = { 4, 8 };
    auto back               = record_from_json(record_to_json(r));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->truth.id, "id-1");
    EXPECT_EQ(back->truth.best, 1);
    EXPECT_EQ(back->truth.ratings, (std::vector<int>{ 4, 8 }));
    EXPECT_EQ(back->truth.level, 3);
    ASSERT_EQ(back->trajectories.size(), 2u);
    EXPECT_EQ(back->trajectories[0].order, (std::vector<int>{ 1, 0 }));
    EXPECT_EQ(back->trajectories[0].scores, (std::vector<int>{ 3, 9 }));
    EXPECT_DOUBLE_EQ(*back->trajectories[0].meta_score, 0.25);
    EXPECT_EQ(back->trajectories[1].reason, "truncated");
    EXPECT_TRUE(back->trajectories[1].scores.empty());
    // the judge world's style travels with the truth; standard items write no key
    EXPECT_FALSE(record_to_json(r).contains("style"));
    EXPECT_EQ(style_of(back->truth), "standard");
    r.truth.style = "heldout";
    auto held     = record_from_json(record_to_json(r));
    ASSERT_TRUE(held);
    EXPECT_EQ(style_of(held->truth), "heldout");
}

TEST(Results, ResumeAfterTornLastLine) {
    TempDir     dir;
    std::string path = dir.file("results.jsonl");
    {
        auto f = ResultsFile::open(path);
        ASSERT_TRUE(f);
        ASSERT_TRUE((*f)->append({ record("a", 2, 0, { traj({ 9, 1 }) }), record("b", 2, 0, { traj({ 1, 9 }) }) }));
    }
    // Simulate SIGKILL in the middle of writing the next batch: half a line, no newline.
    std::string c_line = record_to_json(record("c", 2, 0, { traj({ 5, 4 }) })).dump();
    {
        std::ofstream out(path, std::ios::app | std::ios::binary);
        out << c_line.substr(0, c_line.size() / 2);
    }
    auto f = ResultsFile::open(path);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_TRUE((*f)->dropped_torn_line());
    EXPECT_EQ((*f)->records().size(), 2u);
    EXPECT_TRUE((*f)->done("a"));
    EXPECT_TRUE((*f)->done("b"));
    EXPECT_FALSE((*f)->done("c"));
    ASSERT_TRUE((*f)->append({ record("c", 2, 0, { traj({ 5, 4 }) }) }));
    // appending an id twice is refused
    EXPECT_FALSE((*f)->append({ record("a", 2, 0, { traj({ 9, 1 }) }) }));
    f->reset();

    auto all = read_results(path);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].truth.id, "a");
    EXPECT_EQ((*all)[1].truth.id, "b");
    EXPECT_EQ((*all)[2].truth.id, "c");
    // the file is whole lines only
    std::string content = read_all(path);
    EXPECT_EQ(content.back(), '\n');
    EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 3);
}

// A crash between write and fsync can leave the last line zero-filled up to and including its '\n':
// that line is dropped (and cut from the file), the lines before it kept.
TEST(Results, ZeroFilledLastLineIsDroppedAndCut) {
    TempDir     dir;
    std::string path = dir.file("results.jsonl");
    std::string a    = record_to_json(record("a", 2, 0, { traj({ 9, 1 }) })).dump() + "\n";
    {
        std::ofstream out(path, std::ios::binary);
        out << a << std::string(40, '\0') << "\n";
    }
    auto all = read_results(path);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all->size(), 1u);
    auto f = ResultsFile::open(path);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_TRUE((*f)->dropped_torn_line());
    EXPECT_EQ((*f)->records().size(), 1u);
    EXPECT_EQ(read_all(path), a);
}

TEST(Results, CorruptMiddleLineIsAnErrorWithLineNumber) {
    TempDir     dir;
    std::string path = dir.file("results.jsonl");
    {
        std::ofstream out(path);
        out << record_to_json(record("a", 2, 0, { traj({ 9, 1 }) })).dump() << "\n";
        out << "{not json\n";
        out << record_to_json(record("b", 2, 0, { traj({ 9, 1 }) })).dump() << "\n";
    }
    auto f = ResultsFile::open(path);
    ASSERT_FALSE(f);
    EXPECT_NE(f.error().message.find(path + ":2:"), std::string::npos) << f.error().message;
}
