// `grm import --gguf` as a user runs it: a GGUF written by grm becomes a checkpoint, and `grm export`
// of that checkpoint writes the same tensors back.
#include "cli_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

namespace {

using grm::test::CliRun;
using grm::test::run_grm;
using grm::test::gguf_tensors;

TEST(CliImport, GgufToCheckpointAndBackIsExact) {
    const std::string src = grm::test::tiny_model(), dir = grm::test::temp_dir();
    CliRun            imp = run_grm("import --gguf " + src + " -o " + dir + "/run");
    ASSERT_EQ(imp.code, 0) << imp.out;
    EXPECT_NE(imp.out.find("parameters) -> " + dir + "/run/step-0000000"), std::string::npos) << imp.out;
    CliRun exp = run_grm("export --checkpoint " + dir + "/run --vocab " + src + " -o " + dir + "/back.gguf");
    ASSERT_EQ(exp.code, 0) << exp.out;

    const auto a = gguf_tensors(src), b = gguf_tensors(dir + "/back.gguf");
    ASSERT_EQ(a.size(), 2u + 9u * (size_t) grm::test::default_tiny_config().n_layer);  // embd, final norm, 9 per block
    ASSERT_EQ(b.size(), a.size());
    for (const auto & [name, t] : a) {
        ASSERT_TRUE(b.count(name)) << name;
        EXPECT_EQ(b.at(name).shape, t.shape) << name;
        EXPECT_EQ(b.at(name).data, t.data) << name;
    }
}

// A qwen2 file (q/k/v biases, NEOX rotary pairs) as a user runs import and export: same bytes back,
// and the checkpoint's config.json names the architecture.
TEST(CliImport, Qwen2GgufToCheckpointAndBackIsByteIdentical) {
    grm::LlamaConfig c = grm::test::default_tiny_config();
    c.arch             = grm::Arch::qwen2;
    c.qkv_bias         = true;
    c.rope_theta       = 1e6f;
    c.tied_embeddings  = false;
    const std::string src = grm::test::tiny_model(c, 5), dir = grm::test::temp_dir();
    CliRun            imp = run_grm("import --gguf " + src + " -o " + dir + "/run");
    ASSERT_EQ(imp.code, 0) << imp.out;
    std::ifstream cfg(dir + "/run/config.json");
    std::string   text((std::istreambuf_iterator<char>(cfg)), {});
    EXPECT_NE(text.find("\"arch\": \"qwen2\""), std::string::npos) << text;
    CliRun exp = run_grm("export --checkpoint " + dir + "/run --vocab " + src + " --name grm-random-fixture -o " + dir +
                         "/back.gguf");
    ASSERT_EQ(exp.code, 0) << exp.out;
    auto bytes = [](const std::string & p) {
        std::ifstream f(p, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(f)), {});
    };
    EXPECT_TRUE(bytes(src) == bytes(dir + "/back.gguf"));
    EXPECT_EQ(gguf_tensors(dir + "/back.gguf").count("blk.1.attn_v.bias"), 1u);
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
