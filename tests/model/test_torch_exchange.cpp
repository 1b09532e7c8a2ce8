// Token files and raw parameter directories: round trips, bad input, and the PyTorch trainer
// (scripts/train_torch.py) reading what grm writes and writing what grm reads.
#include "model/config.h"
#include "model/torch_exchange.h"
#include "model/transformer.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

namespace grm::model {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string slurp(const fs::path & p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(TokenFile, RoundTripsTokensAndPromptLengthsInBothWidths) {
    TempDir dir("exchange");
    for (int n_vocab : {300, 70000}) {
        auto ex                   = test::random_examples(5, n_vocab, 2, 9, 11);
        ex[2].tokens.back()       = n_vocab - 1;  // the largest id survives the width
        const std::string path    = dir / ("t" + std::to_string(n_vocab));
        ASSERT_TRUE(write_token_file(path, ex, n_vocab));
        int64_t n_tokens = 0;
        for (const auto & e : ex) n_tokens += (int64_t) e.tokens.size();
        const int width = n_vocab <= 65536 ? 2 : 4;
        EXPECT_EQ(fs::file_size(path), uint64_t(32 + 5 * 8 + n_tokens * width));
        auto back = read_token_file(path);
        ASSERT_TRUE(back) << back.error().to_string();
        ASSERT_EQ(back->size(), ex.size());
        for (size_t i = 0; i < ex.size(); ++i) {
            EXPECT_EQ((*back)[i].tokens, ex[i].tokens);
            EXPECT_EQ((*back)[i].n_prompt, ex[i].n_prompt);
        }
    }
}

TEST(TokenFile, RejectsIdsOutsideTheVocabAndLeavesNoFile) {
    TempDir dir("exchange");
    auto    ex          = test::random_examples(3, 50, 3, 5, 1);
    ex[1].tokens[1]     = 50;
    const auto path     = (dir / "bad.tok");
    auto       st       = write_token_file(path, ex, 50);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("token id 50 is outside the vocab of 50"), std::string::npos);
    EXPECT_TRUE(fs::is_empty(dir.str()));
}

TEST(TokenFile, NamesWhatIsWrongWithABadFile) {
    TempDir    dir("exchange");
    const auto path = (dir / "a.tok");
    ASSERT_TRUE(write_token_file(path, test::random_examples(4, 50, 3, 6, 2), 50));
    const std::string good = slurp(path);

    std::ofstream(path, std::ios::binary) << "GRMTOK02" << good.substr(8);
    auto r = read_token_file(path);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is not a grm token file"), std::string::npos);

    std::ofstream(path, std::ios::binary) << good.substr(0, good.size() - 1);
    r = read_token_file(path);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("bytes, the header implies " + std::to_string(good.size())), std::string::npos);
}

TEST(RawParams, RoundTripIntoAFreshModel) {
    TempDir           dir("exchange");
    const LlamaConfig cfg = test::tiny_config(40, /*gqa=*/true, /*tied=*/false);
    Transformer       a(cfg), b(cfg);
    a->init_weights(1);
    b->init_weights(2);
    ASSERT_TRUE(write_raw_params(dir.str(), cfg, *a));
    auto back = read_raw_params_config(dir.str());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->n_embd, 32);
    EXPECT_FALSE(back->tied_embeddings);
    ASSERT_TRUE(load_raw_params(dir.str(), *b));
    auto pa = a->named_parameters(), pb = b->named_parameters();
    for (const auto & p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}

TEST(RawParams, MismatchedManifestOrSizeIsNamed) {
    TempDir           dir("exchange");
    const LlamaConfig cfg = test::tiny_config(40, true, true);
    Transformer       a(cfg);
    ASSERT_TRUE(write_raw_params(dir.str(), cfg, *a));

    // A model of another shape: the first differing parameter is named with both shapes.
    Transformer wider(test::tiny_config(41, true, true));
    auto        st = load_raw_params(dir.str(), *wider);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("parameter 0 is 'token_embd.weight' [40, 32], the model expects "
                                      "'token_embd.weight' [41, 32]"),
              std::string::npos)
        << st.error().message;

    const fs::path w = dir / "weights.bin";
    fs::resize_file(w, fs::file_size(w) - 4);
    st = load_raw_params(dir.str(), *a);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("the parameters need " + std::to_string(fs::file_size(w) + 4)), std::string::npos);
}

// The PyTorch side: its fast forward equals tests/model/torch_reference.py (--self-check), and it
// reads grm's token file and raw parameters and writes raw parameters grm reads back unchanged
// (zero steps from --init: the file formats are the only thing exercised).
TEST(TorchTrainer, SelfCheckAndFileFormatsBothWays) {
    const std::string py = "/usr/bin/python3 " GRM_SOURCE_DIR "/scripts/train_torch.py";
    ASSERT_EQ(std::system((py + " --self-check > /dev/null").c_str()), 0);

    TempDir           dir("exchange");
    const LlamaConfig cfg = test::tiny_config(40, true, true);
    Transformer       a(cfg);
    a->init_weights(5);
    ASSERT_TRUE(write_raw_params((dir / "init"), cfg, *a));
    auto ex = test::random_examples(7, 40, 3, 20, 4);
    ASSERT_TRUE(write_token_file((dir / "d.tok"), ex, 40));
    std::ofstream(dir / "cfg.json") << config_to_json(cfg).dump();
    const std::string cmd = py + " --data " + dir.str() + "/d.tok --config " + dir.str() + "/cfg.json --init " +
                            dir.str() + "/init --out " + dir.str() + "/out --steps 0 --seq 32 > " + dir.str() + "/stdout";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream out(dir / "stdout");
    std::string   first;
    std::getline(out, first);
    const auto info = nlohmann::json::parse(first);
    int64_t    n_tokens = 0;
    for (const auto & e : ex) n_tokens += (int64_t) e.tokens.size();
    EXPECT_EQ(info.at("examples").get<int64_t>(), 7);
    EXPECT_EQ(info.at("tokens").get<int64_t>(), n_tokens);
    EXPECT_EQ(info.at("params").get<int64_t>(), parameter_count(cfg));

    Transformer b(cfg);
    b->init_weights(6);
    ASSERT_TRUE(load_raw_params((dir / "out"), *b));
    auto pa = a->named_parameters(), pb = b->named_parameters();
    for (const auto & p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}

// A run stopped with --until and continued with --resume ends with the same parameters, bit for bit,
// as the run that never stopped (CPU): optimizer moments, schedule and data order all come back.
// 12 steps of 2 rows cross several epochs of the packed data.
TEST(TorchTrainer, StopAndResumeEqualsAStraightRun) {
    const std::string py = "/usr/bin/python3 " GRM_SOURCE_DIR "/scripts/train_torch.py";
    TempDir           dir("exchange");
    const LlamaConfig cfg = test::tiny_config(40, true, true);
    ASSERT_TRUE(write_token_file((dir / "d.tok"), test::random_examples(24, 40, 3, 20, 8), 40));
    std::ofstream(dir / "cfg.json") << config_to_json(cfg).dump();
    const std::string common = py + " --data " + dir.str() + "/d.tok --config " + dir.str() +
                               "/cfg.json --steps 12 --batch 2 --seq 32 --warmup 3 --lr 1e-2 --seed 9 > /dev/null";
    auto with_out = [&](const std::string & out, const std::string & extra) {
        return std::system((common + " --out " + dir.str() + "/" + out + " " + extra).c_str());
    };
    ASSERT_EQ(with_out("straight", ""), 0);
    ASSERT_EQ(with_out("stopped", "--until 5"), 0);
    Transformer at5(cfg), straight(cfg), resumed(cfg);
    ASSERT_TRUE(load_raw_params((dir / "stopped"), *at5));
    ASSERT_EQ(with_out("stopped", "--resume"), 0);
    ASSERT_TRUE(load_raw_params((dir / "straight"), *straight));
    ASSERT_TRUE(load_raw_params((dir / "stopped"), *resumed));
    auto ps = straight->named_parameters(), pr = resumed->named_parameters(), p5 = at5->named_parameters();
    for (const auto & p : ps) {
        EXPECT_TRUE(torch::equal(p.value(), pr[p.key()])) << p.key();
        EXPECT_FALSE(torch::equal(p.value(), p5[p.key()])) << p.key() << " did not move after step 5";
    }
}

}  // namespace
}  // namespace grm::model
