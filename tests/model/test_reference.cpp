// The C++ decoder and trainer against an independent PyTorch reference (torch_reference.py):
// logits, loss and every parameter's gradient for one packed batch, and a 10-step AdamW loss curve;
// llama, qwen2 (q/k/v biases, NEOX rotary pairs) and Llama 3.1 RoPE scaling.
#include "model/config.h"
#include "model/trainer.h"
#include "model/transformer.h"
#include "test_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

namespace grm::model {
namespace {

// Stated tolerances (f32 on both sides; observed differences are about 1e-7).
constexpr double k_logit_tol     = 1e-5;  // max |logit diff|
constexpr double k_loss_tol      = 1e-6;  // |loss diff|
constexpr double k_grad_rel_tol  = 1e-4;  // max |grad diff| / max |ref grad|, per tensor
constexpr double k_curve_tol     = 2e-5;  // |loss diff| at each of the 10 AdamW steps

void write_raw(const std::string & path, const torch::Tensor & t) {
    auto          c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char *>(c.data_ptr<float>()), std::streamsize(c.numel() * sizeof(float)));
}

torch::Tensor read_raw(const std::string & path, at::IntArrayRef shape) {
    auto          t = torch::empty(shape, torch::kFloat32);
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(bool(in)) << path;
    in.read(reinterpret_cast<char *>(t.data_ptr<float>()), std::streamsize(t.numel() * sizeof(float)));
    EXPECT_EQ(in.gcount(), std::streamsize(t.numel() * sizeof(float))) << path;
    return t;
}

template <class T>
std::vector<T> to_vec(const torch::Tensor & t) {
    auto c = t.contiguous();
    return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

void check_against_reference(bool gqa, bool tied, Arch arch = Arch::llama, bool rope_scaling = false) {
    test::TempDir dir("ref");
    auto          cfg = test::tiny_config(48, gqa, tied, arch);
    if (rope_scaling) cfg.rope_freq_factors = test::llama31_rope_factors(cfg, 8.0, 1.0, 4.0, 64);
    torch::manual_seed(0);
    Transformer model(cfg);
    model->init_weights(7);
    if (cfg.qkv_bias) {  // biases start at zero; random ones make them matter from the first batch
        torch::NoGradGuard no_grad;
        for (auto & p : model->named_parameters())
            if (p.key().find(".bias") != std::string::npos) p.value().normal_(0.0, 0.5);
    }

    TrainOptions o;
    o.steps        = 10;
    o.batch        = 3;
    o.seq          = 24;
    o.lr           = 1e-2;
    o.warmup       = 3;
    o.min_lr_ratio = 0.1;
    o.weight_decay = 0.1;
    o.clip         = 0.5;  // low enough to be active on the first steps
    o.seed         = 5;
    // Lengths up to 40 > seq: windows, packing and prompt masks all show up in the batches.
    const auto examples = test::random_examples(14, cfg.n_vocab, 5, 40, 11);

    nlohmann::json manifest{{"config", config_to_json(cfg)}, {"train", train_options_to_json(o)}};
    PackedDataset  probe(examples, o.batch, o.seq, o.seed);
    DataPosition   pos;
    Batch          first;
    for (int s = 0; s < o.steps; ++s) {
        Batch b = probe.next(pos);
        if (s == 0) first = b;
        manifest["batches"].push_back({{"shape", b.tokens.sizes().vec()},
                                       {"tokens", to_vec<int64_t>(b.tokens)},
                                       {"targets", to_vec<int64_t>(b.targets)},
                                       {"positions", to_vec<int64_t>(b.positions)},
                                       {"doc", to_vec<int64_t>(b.doc)},
                                       {"mask", to_vec<float>(b.loss_mask)}});
    }
    ASSERT_GT(first.n_targets, 0);
    ASSERT_LT(first.n_targets, first.n_real);  // some prompt positions are masked out
    for (const auto & p : model->named_parameters()) {
        manifest["params"].push_back({{"name", p.key()}, {"shape", p.value().sizes().vec()}});
        write_raw(dir / (p.key() + ".bin"), p.value());
    }
    std::ofstream(dir / "manifest.json") << manifest.dump();

    const std::string cmd = "/usr/bin/python3 " GRM_SOURCE_DIR "/tests/model/torch_reference.py " + dir.str();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    nlohmann::json ref;
    std::ifstream(dir / "ref_out.json") >> ref;

    // Logits, loss and gradients of batch 0 with the initial weights.
    auto logits = model->forward_packed(first.tokens, first.positions, first.doc);  // the trainer's path
    auto want   = read_raw(dir / "ref_logits.bin", logits.sizes());
    const double logit_diff = (logits - want).abs().max().item<double>();
    EXPECT_LT(logit_diff, k_logit_tol);
    auto loss = masked_ce_sum(*model, first) / double(first.n_targets);
    EXPECT_NEAR(loss.item<double>(), ref["loss"].get<double>(), k_loss_tol);
    loss.backward();
    int    checked  = 0;
    double grad_rel = 0.0;
    for (const auto & p : model->named_parameters()) {
        auto g    = p.value().grad();
        auto want = read_raw(dir / ("ref_grad/" + p.key() + ".bin"), g.sizes());
        auto rel  = (g - want).abs().max().item<double>() / std::max(1e-12, want.abs().max().item<double>());
        EXPECT_LT(rel, k_grad_rel_tol) << p.key();
        grad_rel = std::max(grad_rel, rel);
        ++checked;
    }
    EXPECT_EQ(checked, int(manifest["params"].size()));

    // The trainer's loss curve on the same batches.
    LmTrainer trainer(model, std::make_shared<PackedDataset>(examples, o.batch, o.seq, o.seed), o);
    const auto & curve = ref["losses"];
    ASSERT_EQ(int(curve.size()), o.steps);
    double curve_diff = 0.0;
    for (int s = 0; s < o.steps; ++s) {
        auto st = trainer.step();
        EXPECT_NEAR(st.loss, curve[s].get<double>(), k_curve_tol) << "step " << s;
        curve_diff = std::max(curve_diff, std::abs(st.loss - curve[s].get<double>()));
    }
    std::printf("[reference %s gqa=%d tied=%d rope_freqs=%d] max |logit diff| %.3g, |loss diff| %.3g, max grad rel diff %.3g, "
                "max curve diff %.3g (loss %.4f -> %.4f)\n",
                arch_name(arch), gqa, tied, rope_scaling, logit_diff, std::abs(loss.item<double>() - ref["loss"].get<double>()), grad_rel, curve_diff,
                curve[0].get<double>(), curve[o.steps - 1].get<double>());
    EXPECT_LT(curve[o.steps - 1].get<double>(), curve[0].get<double>());  // it does learn
}

TEST(Reference, TiedMultiHeadMatchesPyTorch) { check_against_reference(/*gqa=*/false, /*tied=*/true); }
TEST(Reference, UntiedGroupedQueryMatchesPyTorch) { check_against_reference(/*gqa=*/true, /*tied=*/false); }
TEST(Reference, Qwen2UntiedGroupedQueryMatchesPyTorch) { check_against_reference(true, false, Arch::qwen2); }
TEST(Reference, Llama31RopeScalingMatchesPyTorch) { check_against_reference(true, false, Arch::llama, true); }

}  // namespace
}  // namespace grm::model
