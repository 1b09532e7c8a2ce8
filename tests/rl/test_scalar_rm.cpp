// Scalar RMs: BCE and BT training lower their loss on separable toy data, and the exported meta RM
// run through llama.cpp matches libtorch's scalar head.
#include "common/fixtures.h"
#include "scaling/llama_scalar_rm.h"
#include "scaling/rm_text.h"
#include "model/lora.h"
#include "rl/scalar_rm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <cstdio>

namespace grm::rl {
namespace {

// llama.cpp's CPU kernels accumulate in another order than libtorch: |diff| <= tol * max(1, |s|).
constexpr double k_llama_tol = 2e-3;

LlamaConfig toy_config() {
    LlamaConfig c;
    c.n_vocab   = 24;
    c.n_ctx     = 32;
    c.n_embd    = 32;
    c.n_layer   = 1;
    c.n_head    = 4;
    c.n_head_kv = 4;
    c.n_ff      = 64;
    return c;
}

model::TrainOptions toy_options() {
    model::TrainOptions o;
    o.steps  = 30;
    o.batch  = 8;
    o.lr     = 3e-3;
    o.warmup = 2;
    o.seed   = 1;
    return o;
}

// Rows of random tokens 3..22 ending in 3 (label 1) or 4 (label 0): separable by the last token.
std::vector<MetaExample> toy_meta(int n) {
    std::vector<MetaExample> out;
    uint64_t                 x = 7;
    for (int i = 0; i < n; ++i) {
        MetaExample e;
        e.tokens.push_back(1);
        for (int j = 0; j < 5 + i % 4; ++j) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            e.tokens.push_back(3 + int((x >> 33) % 20));
        }
        e.label = float(i % 2);
        e.tokens.push_back(e.label > 0.5f ? 3 : 4);
        out.push_back(e);
    }
    return out;
}

TEST(ScalarRm, BalanceKeepsAsManyCorrectAsWrongPerSourceAndIsSeeded) {
    // teacher: 6 correct, 2 wrong; policy: 1 correct, 4 wrong; judge: correct only (dropped).
    std::vector<MetaExample> data;
    auto add = [&](const char * source, int correct, int wrong) {
        for (int i = 0; i < correct + wrong; ++i)
            data.push_back({ { int32_t(data.size()) }, i < correct ? 1.0f : 0.0f, source });
    };
    add("teacher", 6, 2);
    add("policy", 1, 4);
    add("judge", 3, 0);
    auto a = data, b = data, c = data;
    auto report = balance_labels_by_source(a, 5);
    ASSERT_EQ(report.size(), 3u);
    EXPECT_EQ(report[0].source, "teacher");
    EXPECT_EQ(report[0].correct, 6);
    EXPECT_EQ(report[0].wrong, 2);
    EXPECT_EQ(report[0].kept, 4);
    EXPECT_EQ(report[1].kept, 2);
    EXPECT_EQ(report[2].kept, 0);
    ASSERT_EQ(a.size(), 6u);
    std::map<std::string, std::array<int, 2>> n;
    for (const auto & e : a) ++n[e.source][e.label > 0.5f];
    EXPECT_EQ((n["teacher"]), (std::array<int, 2>{ 2, 2 }));
    EXPECT_EQ((n["policy"]), (std::array<int, 2>{ 1, 1 }));
    EXPECT_EQ(n.count("judge"), 0u);
    for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(a[i - 1].tokens[0], a[i].tokens[0]);  // order kept
    balance_labels_by_source(b, 5);
    bool other_seed_differs = false;
    for (uint64_t seed = 6; seed < 12 && !other_seed_differs; ++seed) {
        auto d = data;
        balance_labels_by_source(d, seed);
        for (size_t i = 0; i < d.size(); ++i) other_seed_differs = other_seed_differs || d[i].tokens != a[i].tokens;
    }
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].tokens, b[i].tokens);
    EXPECT_TRUE(other_seed_differs);
}

TEST(ScalarRm, BceLossDecreasesOnSeparableData) {
    torch::manual_seed(0);
    model::ScalarHeadModel m(toy_config());
    m->init_weights(3);
    ScalarRmTrainer t(m, toy_meta(32), toy_options());
    const double first = t.step().loss;
    double       last  = first;
    for (int i = 1; i < 30; ++i) last = t.step().loss;
    EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
}

// The meta RM with LoRA: adapters on the backbone and the score head train, the backbone's weights
// stay as they were, the loss falls, and the export holds the merged weights.
TEST(ScalarRm, LoraMetaRmTrainsAdaptersAndHead) {
    torch::manual_seed(0);
    model::ScalarHeadModel m(toy_config());
    m->init_weights(3);
    model::LoraParams lora;
    lora.rank = 4;
    m->add_lora(lora, 2);
    model::ScalarHeadModel before(toy_config());
    before->init_weights(3);
    auto o = toy_options();
    o.lr   = 1e-2;
    ScalarRmTrainer t(m, toy_meta(32), o);
    const double first = t.step().loss;
    double       last  = first;
    for (int i = 1; i < 30; ++i) last = t.step().loss;
    EXPECT_LT(last, 0.7 * first) << first << " -> " << last;
    auto params = m->named_parameters();
    for (const auto & p : before->named_parameters()) {
        const bool head = p.key().rfind("score.", 0) == 0;
        EXPECT_EQ(torch::equal(p.value(), params[p.key()]), !head) << p.key();
    }
    const std::string dir = test::temp_dir() + "/meta-lora-ckpt";
    ASSERT_TRUE(bool(t.save(dir)));
    auto meta = model::read_checkpoint_meta(dir);
    ASSERT_TRUE(bool(meta));
    EXPECT_EQ(meta->lora.rank, 4);
    auto vocab = byte_level_vocab();
    vocab.pieces.resize(24), vocab.scores.resize(24), vocab.types.resize(24);
    const std::string path = test::temp_dir() + "/meta-lora.gguf";
    ASSERT_TRUE(bool(export_scalar_rm(*m, vocab, path, ScalarRmKind::meta)));
    auto g = read_gguf_llama(path);
    ASSERT_TRUE(bool(g));
    for (const auto & nt : g->tensors) EXPECT_EQ(nt.name.find("lora"), std::string::npos) << nt.name;
    for (const auto & [name, value] : model::base_parameters(*m)) {
        if (name != "blk.0.attn_q.weight") continue;
        auto it = std::find_if(g->tensors.begin(), g->tensors.end(), [&](const NamedTensor & nt) { return nt.name == name; });
        ASSERT_NE(it, g->tensors.end());
        EXPECT_TRUE(torch::allclose(torch::tensor(it->data).view(value.sizes()), value, 0, 1e-6));
        EXPECT_FALSE(torch::equal(value, before->named_parameters()[name]));  // merged, not the base
    }
}

TEST(ScalarRm, BtLossDecreasesAndResumes) {
    auto                     meta = toy_meta(32);
    std::vector<PairExample> pairs;
    for (size_t i = 0; i + 1 < meta.size(); i += 2) pairs.push_back({meta[i + 1].tokens, meta[i].tokens});
    auto o  = toy_options();
    o.batch = 4;
    torch::manual_seed(0);
    model::ScalarHeadModel m(toy_config());
    m->init_weights(3);
    ScalarRmTrainer t(m, pairs, o);
    const double first = t.step().loss;
    EXPECT_NEAR(first, std::log(2.0), 0.3);  // untrained: r_c ~ r_r
    t.step();
    const std::string dir = test::temp_dir() + "/bt-ckpt";
    ASSERT_TRUE(bool(t.save(dir)));
    double last = 0.0;
    for (int i = 2; i < 30; ++i) last = t.step().loss;
    EXPECT_LT(last, 0.5 * first);

    torch::manual_seed(0);
    model::ScalarHeadModel m2(toy_config());
    m2->init_weights(3);
    ScalarRmTrainer r(m2, pairs, o);
    ASSERT_TRUE(bool(r.restore(dir)));
    double resumed = 0.0;
    for (int i = 2; i < 30; ++i) resumed = r.step().loss;
    EXPECT_EQ(resumed, last);
}

TEST(ScalarRm, LlamaCppMatchesLibtorchHead) {
    auto cfg    = test::default_tiny_config();
    const auto vocab = byte_level_vocab();
    cfg.n_vocab = int(vocab.pieces.size());
    torch::manual_seed(4);
    model::ScalarHeadModel m(cfg);
    m->init_weights(9);
    {
        // A head of visible size (the default init gives scores near 0, which would test little).
        torch::NoGradGuard ng;
        m->score->weight.normal_(0.0, 1.0);
        m->score->bias.fill_(0.25);
    }
    const std::string path = test::temp_dir() + "/meta.gguf";
    ASSERT_TRUE(bool(export_scalar_rm(*m, vocab, path, ScalarRmKind::meta)));
    auto rm = scaling::LlamaScalarRm::load(path, 1);
    ASSERT_TRUE(bool(rm)) << rm.error().to_string();
    auto tok = LlamaModel::load(path, /*vocab_only=*/true);
    ASSERT_TRUE(bool(tok));

    Sample s;
    s.id           = "m";
    s.conversation = {{"user", "What is 2+2?"}};
    s.responses    = {"4", "5"};
    s.ratings      = {9, 2};
    s.best         = 0;
    std::vector<Trajectory> ts(2);
    ts[0].order           = {0, 1};
    ts[0].generation.text = "Analysis: 4 is right. Scores: \\boxed{9, 2}";
    ts[1].order           = {1, 0};
    ts[1].generation.text = "Scores: \\boxed{8, 3}";
    std::vector<std::string> texts;
    for (const auto & t : ts) texts.push_back(scaling::meta_rm_text(s, t.order, t.generation.text));
    texts.push_back(std::string(400, 'x'));  // longer than n_ctx 256: both sides keep BOS + the tail

    auto got = (*rm)->score_texts(texts);
    ASSERT_TRUE(bool(got)) << got.error().to_string();
    std::vector<std::vector<int32_t>> rows;
    for (const auto & t : texts) rows.push_back((*tok)->tokenize(t, true, false));
    torch::NoGradGuard ng;
    auto               want = score_rows(*m, rows);
    double             spread = 0.0, worst = 0.0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const double w = want[int64_t(i)].item<double>();
        EXPECT_NEAR((*got)[i], w, k_llama_tol * std::max(1.0, std::fabs(w))) << i;
        spread = std::max(spread, std::fabs((*got)[i] - (*got)[0]));
        worst  = std::max(worst, std::fabs((*got)[i] - w));
    }
    std::printf("llama.cpp vs libtorch scalar head: max |diff| %.2e over %zu texts\n", worst, texts.size());
    EXPECT_GT(spread, 1e-3);  // different inputs, different scores

    scaling::LlamaMetaScorer scorer(std::move(*rm));
    auto            ms = scorer.score(s, ts);
    ASSERT_TRUE(bool(ms));
    EXPECT_NEAR((*ms)[1], (*got)[1], 1e-9);
}

}  // namespace
}  // namespace grm::rl
