// Resume determinism: N steps straight equal N/2 steps + checkpoint + a fresh process-like restore
// + N/2 steps, loss for loss and weight for weight (exact equality).
#include "model/checkpoint.h"
#include "model/trainer.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace grm::model {
namespace {

TrainOptions resume_options() {
    TrainOptions o;
    o.steps  = 8;
    o.batch  = 2;
    o.seq    = 32;
    o.accum  = 2;  // accumulation on
    o.lr     = 5e-3;
    o.warmup = 2;
    o.seed   = 3;
    return o;
}

Transformer fresh_model(const LlamaConfig & cfg, uint64_t seed) {
    Transformer m(cfg);
    m->init_weights(seed);
    return m;
}

TEST(Resume, HalfSaveResumeHalfIsBitIdentical) {
    const auto cfg      = test::tiny_config(40, /*gqa=*/true, /*tied=*/false);
    const auto o        = resume_options();
    // Few examples, so the 8 steps cross epoch boundaries (re-packing in a new order).
    const auto examples = test::random_examples(5, cfg.n_vocab, 4, 50, 21);
    const auto fp       = examples_fingerprint(examples);
    auto       data     = [&] { return std::make_shared<PackedDataset>(examples, o.batch, o.seq, o.seed); };
    ASSERT_LT(data()->batches_in_epoch(0) * o.accum, o.steps);

    LmTrainer           straight(fresh_model(cfg, 1), data(), o);
    std::vector<double> want;
    for (int i = 0; i < o.steps; ++i) want.push_back(straight.step().loss);

    test::TempDir       dir("resume");
    std::vector<double> got;
    {
        LmTrainer first(fresh_model(cfg, 1), data(), o);
        first.set_data_fingerprint(fp);
        for (int i = 0; i < o.steps / 2; ++i) got.push_back(first.step().loss);
        ASSERT_TRUE(first.save(dir / "ckpt").ok());
        // Training on after the save must not leak into the checkpoint.
        first.step();
    }
    // Another initialisation, another global RNG state: everything must come from the checkpoint.
    torch::manual_seed(999);
    LmTrainer second(fresh_model(cfg, 2), data(), o);
    auto      st = second.restore(dir / "ckpt", fp);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_EQ(second.steps_done(), o.steps / 2);
    while (second.steps_done() < o.steps) got.push_back(second.step().loss);

    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "step " << i;
    auto a = straight.model()->named_parameters();
    for (const auto & p : second.model()->named_parameters())
        EXPECT_TRUE(torch::equal(p.value(), *a.find(p.key()))) << p.key();
    EXPECT_EQ(second.tokens_seen(), straight.tokens_seen());
}

TEST(Resume, RestoreRefusesOtherDataAndOtherConfig) {
    const auto    cfg      = test::tiny_config(40, false, true);
    const auto    o        = resume_options();
    const auto    examples = test::random_examples(6, cfg.n_vocab, 4, 20, 5);
    test::TempDir dir("refuse");
    LmTrainer     t(fresh_model(cfg, 1), std::make_shared<PackedDataset>(examples, o.batch, o.seq, o.seed), o);
    t.set_data_fingerprint(examples_fingerprint(examples));
    t.step();
    ASSERT_TRUE(t.save(dir / "ckpt").ok());

    LmTrainer other_data(fresh_model(cfg, 1), std::make_shared<PackedDataset>(examples, o.batch, o.seq, o.seed), o);
    EXPECT_FALSE(other_data.restore(dir / "ckpt", 12345).ok());

    auto      cfg2 = cfg;
    cfg2.n_ff      = 96;
    LmTrainer other_cfg(fresh_model(cfg2, 1), std::make_shared<PackedDataset>(examples, o.batch, o.seq, o.seed), o);
    auto      st = other_cfg.restore(dir / "ckpt", examples_fingerprint(examples));
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::invalid_argument);
}

TEST(Init, GrownVocabAndLongerContextKeepEveryTrainedWeight) {
    const auto    cfg = test::tiny_config(40, /*gqa=*/true, /*tied=*/true);
    const auto    o   = resume_options();
    const auto    ex  = test::random_examples(6, cfg.n_vocab, 4, 20, 5);
    test::TempDir dir("init");
    LmTrainer     t(fresh_model(cfg, 1), std::make_shared<PackedDataset>(ex, o.batch, o.seq, o.seed), o);
    t.step();
    ASSERT_TRUE(t.save(dir / "ckpt").ok());
    Transformer trained(cfg);
    ASSERT_TRUE(load_checkpoint_model(dir / "ckpt", *trained).ok());

    auto grown    = cfg;
    grown.n_vocab = 43;  // three pieces appended
    grown.n_ctx   = 96;
    auto       net   = fresh_model(grown, 7);
    const auto fresh = net->token_embd->weight.clone();
    auto       st    = init_from_checkpoint(dir / "ckpt", net);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_TRUE(torch::equal(net->token_embd->weight.narrow(0, 0, 40), trained->token_embd->weight));
    EXPECT_TRUE(torch::equal(net->token_embd->weight.narrow(0, 40, 3), fresh.narrow(0, 40, 3)));
    const auto want = trained->named_parameters();
    for (const auto & p : net->named_parameters()) {
        if (p.key() != "token_embd.weight") {
            EXPECT_TRUE(torch::equal(p.value(), want[p.key()])) << p.key();
        }
    }
    // Same tokens, same positions: the grown model computes what the trained one does (the new
    // rows only add logits), also at positions past the old context.
    torch::NoGradGuard ng;
    const auto         tokens = torch::randint(0, 40, { 1, 80 }, torch::kLong);
    const auto         pos    = torch::arange(80, torch::kLong).unsqueeze(0);
    const auto         doc    = torch::zeros({ 1, 80 }, torch::kLong);
    const auto         a = trained->forward_packed(tokens.narrow(1, 0, 60), pos.narrow(1, 0, 60), doc.narrow(1, 0, 60));
    const auto         b = net->forward_packed(tokens, pos, doc);
    EXPECT_TRUE(torch::allclose(b.narrow(1, 0, 60).narrow(2, 0, 40), a, 1e-5, 1e-5));

    // A smaller vocab, or any other shape change, is refused with the field named.
    auto shrunk = cfg, wider = cfg;
    shrunk.n_vocab = 39;
    wider.n_ff     = 96;
    for (const auto & [other, message] : { std::pair{ shrunk, "n_vocab 40 exceeds the model's 39" },
                                           std::pair{ wider, "n_ff 64 differs from the model's 96" } }) {
        auto model = fresh_model(other, 1);
        st         = init_from_checkpoint(dir / "ckpt", model);
        ASSERT_FALSE(st.ok()) << message;
        EXPECT_NE(st.error().message.find(message), std::string::npos) << st.error().message;
    }
}

TEST(Resume, RunTrainingLogsEveryStepAndKeepsLatest) {
    const auto cfg      = test::tiny_config(40, false, true);
    auto       o        = resume_options();
    o.steps             = 5;
    const auto examples = test::random_examples(8, cfg.n_vocab, 4, 30, 9);
    test::TempDir run("run");
    LmTrainer     t(fresh_model(cfg, 1), std::make_shared<PackedDataset>(examples, o.batch, o.seq, o.seed), o);
    RunOptions    r;
    r.out_dir    = run.str();
    r.save_every = 2;
    r.keep       = 2;
    r.progress   = false;
    auto last    = run_training(t, r);
    ASSERT_TRUE(last.ok()) << last.error().to_string();
    EXPECT_EQ(last->step, 5);

    std::ifstream log(run / "log.jsonl");
    int           lines = 0;
    for (std::string l; std::getline(log, l); ++lines) {
        auto j = nlohmann::json::parse(l);
        EXPECT_EQ(j["step"].get<int>(), lines + 1);
        EXPECT_TRUE(j.contains("loss") && j.contains("tokens_per_s") && j.contains("lr"));
    }
    EXPECT_EQ(lines, 5);
    auto latest = resolve_checkpoint(run.str());
    ASSERT_TRUE(latest.ok());
    EXPECT_EQ(std::filesystem::path(*latest).filename(), "step-0000005");
    EXPECT_TRUE(std::filesystem::exists(run / "step-0000004"));
    EXPECT_FALSE(std::filesystem::exists(run / "step-0000002"));  // only the newest two are kept
    auto meta = read_checkpoint_meta(*latest);
    ASSERT_TRUE(meta.ok());
    EXPECT_EQ(meta->schema, k_checkpoint_schema);
    EXPECT_EQ(meta->step, 5);
}

}  // namespace
}  // namespace grm::model
