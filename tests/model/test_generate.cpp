// Generation: the batched KV-cache path equals step-by-step full forwards, sampling follows the
// seed, stop tokens end rows, continuation log-probs equal a manual log_softmax gather, and the
// scalar head ignores padding.
#include "model/dataset.h"
#include "model/generate.h"
#include "test_util.h"

#include <gtest/gtest.h>

namespace grm::model {
namespace {

Transformer test_model(bool gqa, bool tied) {
    Transformer m(test::tiny_config(50, gqa, tied));
    m->init_weights(4);
    // Larger weights than the 0.02 init give peaked, well-separated logits.
    torch::NoGradGuard g;
    for (auto & p : m->parameters())
        if (p.dim() == 2) p.mul_(25.0);
    return m;
}

const std::vector<std::vector<int32_t>> k_prompts = {{1, 5, 9, 13}, {1, 7}, {1, 20, 21, 22, 23, 24, 25, 26}};

// Greedy decoding by a full causal forward over each prompt + tokens so far (no cache, no padding).
std::vector<int32_t> greedy_uncached(TransformerImpl & m, std::vector<int32_t> seq, int n) {
    torch::NoGradGuard   g;
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        auto t      = torch::tensor(std::vector<int64_t>(seq.begin(), seq.end())).view({1, -1});
        auto logits = m.forward(t).select(1, t.size(1) - 1);
        auto next   = int32_t(logits.argmax(-1).item<int64_t>());
        out.push_back(next);
        seq.push_back(next);
    }
    return out;
}

TEST(Generate, CachedBatchedGreedyEqualsUncachedStepByStep) {
    for (bool gqa : {false, true}) {
        auto           m = test_model(gqa, /*tied=*/!gqa);
        SamplingParams sp;
        sp.temperature    = 0.0f;
        sp.max_tokens = 12;
        auto gen          = generate(*m, k_prompts, sp);
        ASSERT_TRUE(gen.ok()) << gen.error().to_string();
        for (size_t b = 0; b < k_prompts.size(); ++b) {
            EXPECT_EQ((*gen)[b].tokens, greedy_uncached(*m, k_prompts[b], 12)) << "row " << b << " gqa " << gqa;
            EXPECT_FALSE((*gen)[b].stopped);
        }
    }
}

TEST(Generate, SeedDecidesSamples) {
    auto           m = test_model(true, false);
    SamplingParams sp;
    sp.temperature    = 1.5f;
    sp.max_tokens = 16;
    sp.seed           = 42;
    auto a            = generate(*m, k_prompts, sp);
    auto b            = generate(*m, k_prompts, sp);
    sp.seed           = 43;
    auto c            = generate(*m, k_prompts, sp);
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    bool any_diff = false;
    for (size_t i = 0; i < k_prompts.size(); ++i) {
        EXPECT_EQ((*a)[i].tokens, (*b)[i].tokens);
        any_diff = any_diff || (*a)[i].tokens != (*c)[i].tokens;
    }
    EXPECT_TRUE(any_diff);
}

TEST(Generate, TinyTopPIsGreedyAndStopTokensEndRows) {
    auto           m = test_model(false, true);
    SamplingParams greedy;
    greedy.temperature    = 0.0f;
    greedy.max_tokens = 6;
    auto g                = generate(*m, k_prompts, greedy);
    SamplingParams nucleus = greedy;
    nucleus.temperature    = 1.0f;
    nucleus.top_p          = 1e-6f;
    nucleus.seed           = 7;
    auto n                 = generate(*m, k_prompts, nucleus);
    ASSERT_TRUE(g.ok() && n.ok());
    for (size_t i = 0; i < k_prompts.size(); ++i) EXPECT_EQ((*g)[i].tokens, (*n)[i].tokens);

    const std::vector<int32_t> stop_ids = {(*g)[0].tokens[2]};
    auto                       s        = generate(*m, k_prompts, greedy, stop_ids);
    ASSERT_TRUE(s.ok());
    // Row 0 stops at (or before) its third token, inclusive of the stop token.
    const auto & row0 = (*s)[0];
    EXPECT_TRUE(row0.stopped);
    EXPECT_LE(row0.tokens.size(), 3u);
    EXPECT_EQ(row0.tokens.back(), stop_ids[0]);
    for (size_t i = 0; i < row0.tokens.size(); ++i) EXPECT_EQ(row0.tokens[i], (*g)[0].tokens[i]);
}

TEST(Generate, ContextOverflowAndEmptyPromptAreErrors) {
    auto           m = test_model(false, true);
    SamplingParams sp;
    sp.max_tokens = 60;  // 8 + 60 > n_ctx 64
    auto r            = generate(*m, k_prompts, sp);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::context_overflow);
    sp.max_tokens = 4;
    EXPECT_FALSE(generate(*m, {{}}, sp).ok());
    sp.top_k = 5;  // the engines' option only: refused, not ignored
    EXPECT_EQ(generate(*m, k_prompts, sp).error().code, Errc::invalid_argument);
}

// The trainer's per-document attention equals the dense packed bias, in values and gradients.
TEST(Packed, PerDocumentAttentionEqualsPackedBias) {
    for (bool gqa : {false, true}) {
        auto          m = test_model(gqa, /*tied=*/true);
        PackedDataset data(test::random_examples(40, 50, 3, 60, 3), 3, 64, 1);
        DataPosition  pos;
        auto          b     = data.next(pos);
        auto          dense = m->forward(b.tokens, b.positions, packed_causal_bias(b.doc));
        auto          spans = m->forward_packed(b.tokens, b.positions, b.doc);
        EXPECT_LT((dense - spans).abs().max().item<double>(), 1e-5 * (1.0 + dense.abs().max().item<double>())) << "gqa " << gqa;
        auto grad = [&](const torch::Tensor & logits) {
            m->zero_grad();
            logits.logsumexp(-1).sum().backward();
            return m->token_embd->weight.grad().clone();
        };
        auto gd = grad(dense), gs = grad(spans);
        EXPECT_LT((gd - gs).abs().max().item<double>(), 1e-3 * (1.0 + gd.abs().max().item<double>())) << "gqa " << gqa;
    }
}

TEST(Logprobs, EqualManualLogSoftmaxGather) {
    auto                              m     = test_model(true, false);
    std::vector<std::vector<int32_t>> conts = {{3, 4, 5}, {10}, {6, 6, 7, 8, 9}};
    auto                              r     = sequence_logprobs(*m, k_prompts, conts);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->logprobs.sizes(), (std::vector<int64_t>{3, 5}));
    EXPECT_TRUE(r->logprobs.requires_grad());  // GRPO back-propagates through it
    for (size_t b = 0; b < conts.size(); ++b) {
        std::vector<int64_t> seq(k_prompts[b].begin(), k_prompts[b].end());
        seq.insert(seq.end(), conts[b].begin(), conts[b].end());
        auto lsm = torch::log_softmax(m->forward(torch::tensor(seq).view({1, -1})), -1)[0];  // [T, V]
        for (size_t j = 0; j < 5; ++j) {
            const double got = r->logprobs[b][j].item<double>();
            if (j < conts[b].size()) {
                const double want = lsm[k_prompts[b].size() + j - 1][conts[b][j]].item<double>();
                EXPECT_NEAR(got, want, 1e-5) << b << "," << j;
                EXPECT_EQ(r->mask[b][j].item<float>(), 1.0f);
            } else {
                EXPECT_EQ(got, 0.0);
                EXPECT_EQ(r->mask[b][j].item<float>(), 0.0f);
            }
        }
    }
}

TEST(ScalarHead, PaddingDoesNotChangeScoresAndBackboneNamesMatch) {
    const auto      cfg = test::tiny_config(50, true, true);
    ScalarHeadModel rm(cfg);
    rm->init_weights(3);
    auto tokens  = torch::tensor(std::vector<int64_t>{1, 5, 6, 7, 1, 9, 0, 0}).view({2, 4});
    auto lengths = torch::tensor(std::vector<int64_t>{4, 2});
    auto scores  = rm->score_tokens(tokens, lengths);  // [2]
    ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{2}));
    auto alone = rm->score_tokens(torch::tensor(std::vector<int64_t>{1, 9}).view({1, 2}), torch::tensor({2}));
    EXPECT_NEAR(scores[1].item<double>(), alone[0].item<double>(), 1e-5);

    // A language model's backbone loads into the scalar model by name (all but output.*).
    Transformer lm(cfg);
    lm->init_weights(11);
    const int64_t copied = copy_matching_parameters(*rm, *lm);
    EXPECT_EQ(copied, int64_t(lm->named_parameters().size()));
    EXPECT_TRUE(torch::equal(rm->token_embd->weight, lm->token_embd->weight));
    EXPECT_NE(rm->named_parameters().find("score.weight"), nullptr);
}

}  // namespace
}  // namespace grm::model
