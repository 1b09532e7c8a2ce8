// Data: packing keeps rows full and trains every target exactly once per epoch, positions restart
// per document, prompts are masked; the llama.cpp tokenizer round-trips and splits prompts right.
#include "common/random_model.h"
#include "model/dataset.h"
#include "llama/llama_model.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

namespace grm::model {
namespace {

TEST(Packing, EveryTargetOnceRowsFullPromptsMasked) {
    const int  T        = 64;
    auto       examples = test::random_examples(200, 90, 3, 150, 8);  // some longer than T
    int64_t    expected = 0;  // trainable targets: positions j >= max(1, n_prompt)
    for (const auto & e : examples) expected += int64_t(e.tokens.size()) - std::max<int64_t>(1, e.n_prompt);
    PackedDataset data(examples, 4, T, 1);
    DataPosition  pos;
    const int64_t n_batches = data.batches_in_epoch(0);
    int64_t       targets = 0, real = 0, cells = 0;
    for (int64_t i = 0; i < n_batches; ++i) {
        auto b = data.next(pos);
        targets += b.n_targets;
        real += b.n_real;
        cells += b.tokens.numel();
        // Positions restart at 0 where the document id changes.
        auto d = b.doc.accessor<int64_t, 2>();
        auto p = b.positions.accessor<int64_t, 2>();
        for (int64_t r = 0; r < b.doc.size(0); ++r) {
            for (int64_t c = 0; c < T; ++c) {
                if (d[r][c] >= 0 && (c == 0 || d[r][c] != d[r][c - 1])) {
                    EXPECT_EQ(p[r][c], 0);  // a document starts at position 0
                }
            }
        }
    }
    EXPECT_EQ(pos.epoch, 0);
    // Whole epoch minus the dropped partial batch (< 4 rows): nearly all targets, rows > 90% full.
    EXPECT_LE(targets, expected);
    EXPECT_GT(double(targets), 0.9 * double(expected));
    EXPECT_GT(double(real) / double(cells), 0.9);
    data.next(pos);
    EXPECT_EQ(pos.epoch, 1);
}

TEST(Packing, SameSeedSameBatchesOtherSeedOtherOrder) {
    auto          ex = test::random_examples(50, 60, 3, 30, 2);
    PackedDataset a(ex, 2, 32, 7), b(ex, 2, 32, 7), c(ex, 2, 32, 8);
    DataPosition  pa, pb, pc;
    bool          differs = false;
    for (int i = 0; i < 5; ++i) {
        auto x = a.next(pa), y = b.next(pb), z = c.next(pc);
        EXPECT_TRUE(torch::equal(x.tokens, y.tokens) && torch::equal(x.loss_mask, y.loss_mask));
        differs = differs || !torch::equal(x.tokens, z.tokens);
    }
    EXPECT_TRUE(differs);
}

class TokenizerTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new test::TempDir("tok");
        LlamaConfig c;
        c.n_embd = 16, c.n_head = 2, c.n_head_kv = 2, c.n_ff = 32, c.n_layer = 1;
        ASSERT_TRUE(write_gguf_llama(*dir_ / "vocab.gguf", random_llama_model(c, 1)).ok());
        auto t = LlamaModel::load(*dir_ / "vocab.gguf", /*vocab_only=*/true);
        ASSERT_TRUE(t.ok()) << t.error().to_string();
        tok_ = *t;
    }
    static void TearDownTestSuite() {
        tok_.reset();
        delete dir_;
    }
    static test::TempDir * dir_;
    static std::shared_ptr<LlamaModel> tok_;
};
test::TempDir * TokenizerTest::dir_ = nullptr;
std::shared_ptr<LlamaModel> TokenizerTest::tok_;

TEST_F(TokenizerTest, RoundTripsAndParsesChatMarkers) {
    const std::string text = "Response 2: 108, computed 91 -> wrong";
    auto              ids  = tok_->tokenize(text, /*add_special=*/true);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids[0], tok_->bos());
    EXPECT_EQ(tok_->detokenize(std::vector<int32_t>(ids.begin() + 1, ids.end())), text);
    auto chat = tok_->tokenize("<|im_start|>user\nhi<|im_end|>", false);
    EXPECT_EQ(chat.front(), tok_->find_piece("<|im_start|>"));
    EXPECT_EQ(chat.back(), tok_->find_piece("<|im_end|>"));
    EXPECT_EQ(tok_->n_vocab(), int32_t(byte_level_vocab().pieces.size()));
}

TEST_F(TokenizerTest, ExamplesMaskThePromptAndEndWithEos) {
    TokenizeStats st;
    auto          ex = tokenize_example(*tok_, "<|im_start|>user\n2+2<|im_end|>\n<|im_start|>assistant\n", "4<|im_end|>", &st);
    auto          p  = tok_->tokenize("<|im_start|>user\n2+2<|im_end|>\n<|im_start|>assistant\n", true);
    EXPECT_EQ(ex.n_prompt, int32_t(p.size()));
    EXPECT_TRUE(std::equal(p.begin(), p.end(), ex.tokens.begin()));
    EXPECT_EQ(ex.tokens.back(), tok_->eos());
    EXPECT_EQ(tok_->detokenize(std::vector<int32_t>(ex.tokens.begin() + ex.n_prompt, ex.tokens.end() - 1)),
              "4<|im_end|>");
    EXPECT_EQ(st.examples, 1);

    std::ofstream(*dir_ / "d.jsonl") << "{\"prompt\": \"a\", \"completion\": \"b\"}\n\n{\"text\": \"hello\"}\n";
    auto loaded = load_examples(*dir_ / "d.jsonl", *tok_);
    ASSERT_TRUE(loaded.ok());
    ASSERT_EQ(loaded->size(), 2u);
    EXPECT_GT((*loaded)[0].n_prompt, 0);
    EXPECT_EQ((*loaded)[1].n_prompt, 0);
    std::ofstream(*dir_ / "bad.jsonl") << "{\"prompt\": 3}\n";
    auto bad = load_examples(*dir_ / "bad.jsonl", *tok_);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST_F(TokenizerTest, EmphasisWeighsTheMatchedCompletionTokensAndTheirTargets) {
    const std::string prompt = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n";
    const std::string done   = "Response 1: 5 -> wrong\nScores: 3<|im_end|>";
    auto              ex     = tokenize_example(*tok_, prompt, done);
    TokenizeStats     st;
    ASSERT_TRUE(apply_emphasis(ex, *tok_, done, {{"Response \\d+: [^\\n]*", 4.0f}, {"3", 2.0f}}, &st).ok());
    ASSERT_EQ(ex.weight.size(), ex.tokens.size());
    // Byte-level pieces: one token per character of "Response 1: 5 -> wrong", one for the "3".
    EXPECT_EQ(st.emphasized, 22 + 1);
    EXPECT_EQ(st.unaligned, 0);
    EXPECT_EQ(ex.weight[ex.n_prompt], 4.0f);                    // "R"
    EXPECT_EQ(ex.weight[ex.n_prompt + 22], 1.0f);               // the newline after "wrong"
    EXPECT_EQ(ex.weight[ex.tokens.size() - 3], 2.0f);           // "3", before <|im_end|> and EOS
    EXPECT_EQ(ex.weight[ex.tokens.size() - 2], 1.0f);

    // The batch's loss mask carries the weights; n_targets still counts trained targets.
    auto          plain = tokenize_example(*tok_, prompt, done);
    PackedDataset weighted({ex}, 1, 64, 1), unweighted({plain}, 1, 64, 1);
    DataPosition  pw, pu;
    auto          bw = weighted.next(pw), bu = unweighted.next(pu);
    EXPECT_EQ(bw.n_targets, bu.n_targets);
    EXPECT_FLOAT_EQ(bw.loss_mask.sum().item<float>(), bu.loss_mask.sum().item<float>() + 22 * 3.0f + 1.0f);
    EXPECT_NE(examples_fingerprint({ex}), examples_fingerprint({plain}));

    auto bad = apply_emphasis(plain, *tok_, done, {{"(", 2.0f}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("--emphasis '('"), std::string::npos);
}

}  // namespace
}  // namespace grm::model
