// `grm import --gguf` as a user runs it: a GGUF written by grm becomes a checkpoint, and `grm export`
// of that checkpoint writes the same tensors back.
#include "cli_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

namespace {

using grm::test::CliRun;
using grm::test::run_grm;

std::map<std::string, grm::NamedTensor> tensors(const std::string & path) {
    auto m = grm::read_gguf_llama(path);
    EXPECT_TRUE(m) << m.error().to_string();
    std::map<std::string, grm::NamedTensor> out;
    if (m)
        for (auto & t : m->tensors) out[t.name] = t;
    return out;
}

TEST(CliImport, GgufToCheckpointAndBackIsExact) {
    const std::string src = grm::test::tiny_model(), dir = grm::test::temp_dir();
    CliRun            imp = run_grm("import --gguf " + src + " -o " + dir + "/run");
    ASSERT_EQ(imp.code, 0) << imp.out;
    EXPECT_NE(imp.out.find("parameters) -> " + dir + "/run/step-0000000"), std::string::npos) << imp.out;
    CliRun exp = run_grm("export --checkpoint " + dir + "/run --vocab " + src + " -o " + dir + "/back.gguf");
    ASSERT_EQ(exp.code, 0) << exp.out;

    const auto a = tensors(src), b = tensors(dir + "/back.gguf");
    ASSERT_EQ(a.size(), 2u + 9u * (size_t) grm::test::default_tiny_config().n_layer);  // embd, final norm, 9 per block
    ASSERT_EQ(b.size(), a.size());
    for (const auto & [name, t] : a) {
        ASSERT_TRUE(b.count(name)) << name;
        EXPECT_EQ(b.at(name).shape, t.shape) << name;
        EXPECT_EQ(b.at(name).data, t.data) << name;
    }
}

TEST(CliImport, BadInputIsNamedAndLeavesNothing) {
    const std::string dir = grm::test::temp_dir();
    CliRun            none = run_grm("import -o " + dir + "/a");
    EXPECT_EQ(none.code, 2);
    EXPECT_NE(none.out.find("give --params DIR or --gguf FILE"), std::string::npos) << none.out;
    CliRun missing = run_grm("import --gguf /nonexistent.gguf -o " + dir + "/a");
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.out.find("not a readable GGUF file: /nonexistent.gguf"), std::string::npos) << missing.out;
    CliRun both = run_grm("import --gguf x.gguf --params p -o " + dir + "/a");
    EXPECT_NE(both.code, 0);
    EXPECT_NE(both.out.find("excludes"), std::string::npos) << both.out;
    EXPECT_FALSE(std::filesystem::exists(dir + "/a"));
}

}  // namespace
