// write_file_atomic: the whole new file or the old one, never a partial file or a stray temp file.
#include "common/fixtures.h"
#include "core/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iterator>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string & path) {
    std::ifstream     in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(AtomicFile, ReplacesWholeOrKeepsTheOldFile) {
    const std::string dir = grm::test::temp_dir(), path = dir + "/out.jsonl";
    ASSERT_TRUE(grm::write_text_atomic(path, "old\n"));
    ASSERT_TRUE(grm::write_file_atomic(path, [](std::ostream & out) { out << "a\n" << "b\n"; }));
    EXPECT_EQ(slurp(path), "a\nb\n");

    // The writer fails half-way (as nlohmann::json does on invalid UTF-8): the old file stays.
    auto st = grm::write_file_atomic(path, [](std::ostream & out) {
        out << "partial";
        throw std::runtime_error("invalid UTF-8 byte at index 3");
    });
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, path + ": invalid UTF-8 byte at index 3");
    EXPECT_EQ(slurp(path), "a\nb\n");

    // A directory that does not exist: named, nothing created.
    st = grm::write_text_atomic(dir + "/no/such/x.txt", "x");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message.rfind("cannot write " + dir + "/no/such/x.txt.tmp-", 0), 0u) << st.error().message;

    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);  // out.jsonl: no temp file
}

}  // namespace
