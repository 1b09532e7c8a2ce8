// llama.cpp parity: a tiny model (llama or qwen2) trained a few steps, exported to GGUF and run by
// llama.cpp gives the same last-position logits (F32 KV cache, flash attention off) and the same
// greedy tokens; and a random GGUF read into the Transformer (`grm import --gguf`) gives llama.cpp's
// logits for the same file.
#include "common/random_model.h"
#include "model/config.h"
#include "model/export.h"
#include "model/generate.h"
#include "model/trainer.h"
#include "model/vocab_file.h"
#include "llama_ctx.h"
#include "test_util.h"

#include "llama.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

namespace grm::model {
namespace {

constexpr double k_f32_logit_tol = 1e-4;  // max |logit diff|, f32 weights and KV cache
constexpr double k_f16_logit_tol = 1e-2;  // f16 weights: only a loose agreement is expected
constexpr int    k_greedy_tokens = 20;

struct LlamaRun {
    std::unique_ptr<llama_model, void (*)(llama_model *)>     model{nullptr, llama_model_free};
    std::unique_ptr<llama_context, void (*)(llama_context *)> ctx{nullptr, llama_free};
};

LlamaRun load_llama(const std::string & path, int n_ctx) {
    static bool init = [] {
        llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
        llama_backend_init();
        return true;
    }();
    (void) init;
    LlamaRun r;
    auto     mp = llama_model_default_params();
    r.model.reset(llama_model_load_from_file(path.c_str(), mp));
    if (!r.model) return r;
    r.ctx.reset(llama_init_from_model(r.model.get(), test::parity_context_params(n_ctx)));
    return r;
}

std::vector<int32_t> llama_greedy(LlamaRun & r, const std::vector<int32_t> & prompt, int n) {
    auto                 logits = test::last_logits(r.ctx.get(), prompt);
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        out.push_back(next);
        EXPECT_EQ(llama_decode(r.ctx.get(), llama_batch_get_one(&next, 1)), 0);
        const float * l = llama_get_logits_ith(r.ctx.get(), -1);
        logits.assign(l, l + logits.size());
    }
    return out;
}

// arch qwen2: q/k/v biases (zero at init, trained) and NEOX rotary pairs, theta 1e6 as Qwen2's.
void check_parity(bool gqa, bool tied, Arch arch = Arch::llama) {
    const Vocab vocab = byte_level_vocab();
    auto        cfg   = test::tiny_config(int(vocab.pieces.size()), gqa, tied, arch);
    Transformer model(cfg);
    model->init_weights(17);
    TrainOptions o;
    o.steps  = 30;
    o.batch  = 4;
    o.seq    = 32;
    o.lr     = 1e-2;
    o.warmup = 3;
    LmTrainer trainer(model, std::make_shared<PackedDataset>(test::pattern_examples(64, 16, 40, 2), o.batch, o.seq, o.seed), o);
    double    first = 0, last = 0;
    for (int i = 0; i < o.steps; ++i) {
        last = trainer.step().loss;
        if (i == 0) first = last;
    }
    ASSERT_LT(last, first * 0.7) << "the tiny model should have learned the counting pattern";
    model->eval();

    test::TempDir dir("parity");
    ASSERT_TRUE(export_gguf(*model, vocab, dir / "m32.gguf", GgufType::f32).ok());
    ASSERT_TRUE(export_gguf(*model, vocab, dir / "m16.gguf", GgufType::f16).ok());
    auto f32 = load_llama(dir / "m32.gguf", cfg.n_ctx);
    auto f16 = load_llama(dir / "m16.gguf", cfg.n_ctx);
    ASSERT_TRUE(f32.ctx && f16.ctx) << "llama.cpp did not load the exported GGUF";
    char arch_key[32] = "";
    llama_model_meta_val_str(f32.model.get(), "general.architecture", arch_key, sizeof arch_key);
    EXPECT_STREQ(arch_key, arch_name(arch));

    const std::vector<std::vector<int32_t>> prompts = {
        {1, 3, 4, 5, 6}, {1, 9, 10}, {1, 40, 77, 200, 12, 13, 14, 15, 16, 17, 18}, {1}};
    double max_f32 = 0, max_f16 = 0;
    for (const auto & p : prompts) {
        torch::NoGradGuard g;
        auto want = model->forward(torch::tensor(std::vector<int64_t>(p.begin(), p.end())).view({1, -1}))[0][-1];
        auto got32 = test::last_logits(f32.ctx.get(), p);
        auto got16 = test::last_logits(f16.ctx.get(), p);
        max_f32 = std::max(max_f32, (torch::tensor(got32) - want).abs().max().item<double>());
        max_f16 = std::max(max_f16, (torch::tensor(got16) - want).abs().max().item<double>());

        SamplingParams sp;
        sp.temperature    = 0.0f;
        sp.max_tokens     = k_greedy_tokens;
        auto ours         = generate(*model, {p}, sp);
        ASSERT_TRUE(ours.ok());
        EXPECT_EQ((*ours)[0].tokens, llama_greedy(f32, p, k_greedy_tokens)) << "prompt of " << p.size();
    }
    EXPECT_LT(max_f32, k_f32_logit_tol);
    EXPECT_LT(max_f16, k_f16_logit_tol);
    ::testing::Test::RecordProperty("max_f32_logit_diff", std::to_string(max_f32));
    ::testing::Test::RecordProperty("max_f16_logit_diff", std::to_string(max_f16));
    std::printf("[parity %s gqa=%d tied=%d] max |logit diff| f32 %.3g, f16 %.3g\n", arch_name(arch), gqa, tied,
                max_f32, max_f16);

    // The vocab travels with the model: reading it back gives the same pieces and types.
    auto back = load_vocab(dir / "m32.gguf");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->pieces, vocab.pieces);
    EXPECT_EQ(back->types, vocab.types);
    EXPECT_EQ(back->eos_id, vocab.eos_id);
}

TEST(LlamaParity, TiedMultiHead) { check_parity(/*gqa=*/false, /*tied=*/true); }
TEST(LlamaParity, UntiedGroupedQuery) { check_parity(/*gqa=*/true, /*tied=*/false); }
TEST(LlamaParity, Qwen2UntiedGroupedQuery) { check_parity(/*gqa=*/true, /*tied=*/false, Arch::qwen2); }
TEST(LlamaParity, Qwen2TiedMultiHead) { check_parity(/*gqa=*/false, /*tied=*/true, Arch::qwen2); }

// The import direction on random weights of deviation 0.3 (not 0.02: attention far from uniform and
// large biases): read_gguf_llama + load_gguf_weights, then every prompt's last logits equal llama.cpp's
// for the same file. `wrong` changes the read config the way a bug would (the other rotary pairing,
// no scaling); that model must miss llama.cpp's logits by more than 100x the tolerance, so the check
// can fail. n_vocab > 0: the fixture vocab padded to that size. The last prompt uses the vocab's last ids.
void check_import_parity(LlamaConfig c, const std::function<void(LlamaConfig &)> & wrong, int n_vocab = 0) {
    test::TempDir dir("import-parity");
    const std::string path = dir / "m.gguf";
    ASSERT_TRUE(write_gguf_llama(path, random_llama_model(c, 23, 0.3f, n_vocab)));
    auto m = read_gguf_llama(path);
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(m->config.arch, c.arch);
    EXPECT_EQ(m->config.qkv_bias, c.qkv_bias);
    EXPECT_EQ(m->config.rope_freq_factors, c.rope_freq_factors);
    ASSERT_TRUE(validate_config(m->config));
    Transformer model(m->config);
    ASSERT_TRUE(load_gguf_weights(*m, *model));
    LlamaConfig bad_cfg = m->config;
    wrong(bad_cfg);
    Transformer bad(bad_cfg);
    ASSERT_TRUE(load_gguf_weights(*m, *bad));
    auto ref = load_llama(path, c.n_ctx);
    ASSERT_TRUE(ref.ctx) << "llama.cpp did not load " << arch_name(c.arch);

    const int32_t                     top     = m->config.n_vocab - 1;
    std::vector<std::vector<int32_t>> prompts = {{1, 3, 4, 5, 6}, {1, 90, 10, 200, 7, 7, 7, 31, 64, 150, 2, 8},
                                                 std::vector<int32_t>(40, 50), {1}, {1, top, top - 1, 5, top}};
    double max_diff = 0, max_logit = 0, bad_diff = 0;
    for (const auto & p : prompts) {
        torch::NoGradGuard g;
        auto tokens = torch::tensor(std::vector<int64_t>(p.begin(), p.end())).view({1, -1});
        auto want   = model->forward(tokens)[0][-1];
        auto got    = torch::tensor(test::last_logits(ref.ctx.get(), p));
        ASSERT_EQ(got.size(0), m->config.n_vocab);
        max_diff  = std::max(max_diff, (got - want).abs().max().item<double>());
        max_logit = std::max(max_logit, want.abs().max().item<double>());
        bad_diff  = std::max(bad_diff, (got - bad->forward(tokens)[0][-1]).abs().max().item<double>());
    }
    EXPECT_LT(max_diff, k_f32_logit_tol);
    EXPECT_GT(max_logit, 1.0);
    EXPECT_GT(bad_diff, 100 * k_f32_logit_tol);
    std::printf("[import parity %s qkv_bias=%d gqa=%d tied=%d rope_freqs=%d n_vocab=%d] max |logit diff| %.3g "
                "(max |logit| %.3g; with the bug %.3g)\n",
                arch_name(c.arch), c.qkv_bias, c.n_head_kv < c.n_head, c.tied_embeddings, !c.rope_freq_factors.empty(),
                m->config.n_vocab, max_diff, max_logit, bad_diff);
}

// The other rotary pairing (adjacent for qwen2, NEOX for llama), all else the same.
void flip_rope(LlamaConfig & c) { c.arch = c.arch == Arch::qwen2 ? Arch::llama : Arch::qwen2; }

TEST(LlamaParity, ImportedQwen2UntiedGroupedQuery) {
    check_import_parity(test::tiny_config(0, /*gqa=*/true, /*tied=*/false, Arch::qwen2), flip_rope);
}
TEST(LlamaParity, ImportedQwen2TiedMultiHeadTheta1e4) {  // every rotary pair turns within 64 positions
    auto c       = test::tiny_config(0, /*gqa=*/false, /*tied=*/true, Arch::qwen2);
    c.rope_theta = 10000.0f;
    check_import_parity(c, flip_rope);
}
// llama.cpp's llama graph adds q/k/v biases when the file has them (optional there).
TEST(LlamaParity, ImportedLlamaWithQkvBias) {
    auto c     = test::tiny_config(0, /*gqa=*/true, /*tied=*/false);
    c.qkv_bias = true;
    check_import_parity(c, flip_rope);
}

// Llama 3.1 RoPE scaling (rope_freqs.weight) and a vocab past 65,536 ids (the prompts use ids up to
// 69,999): test::llama31_rope_factors for an original context of 64 positions (factor 8, low 1,
// high 4): the fastest pair keeps its speed, the three slower ones turn 7.67, 8 and 8 times slower.
TEST(LlamaParity, ImportedLlama31RopeScalingVocab70k) {
    auto c              = test::tiny_config(0, /*gqa=*/true, /*tied=*/false);
    c.rope_freq_factors = test::llama31_rope_factors(c, 8.0, 1.0, 4.0, 64);
    ASSERT_EQ(c.rope_freq_factors.size(), 4u);
    EXPECT_FLOAT_EQ(c.rope_freq_factors[0], 1.0f);
    EXPECT_NEAR(c.rope_freq_factors[1], 7.66, 0.01);
    EXPECT_FLOAT_EQ(c.rope_freq_factors[3], 8.0f);
    check_import_parity(c, [](LlamaConfig & w) { w.rope_freq_factors.clear(); }, 70000);
}

TEST(LlamaParity, ExportRefusesMismatchedVocab) {
    Transformer model(test::tiny_config(40, false, true));
    test::TempDir dir("badvocab");
    auto          st = export_gguf(*model, byte_level_vocab(), dir / "x.gguf", GgufType::f32);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace grm::model
