// LoRA: the adapted forward equals the merged weights' forward; llama.cpp running the base GGUF with
// the exported adapter GGUF gives libtorch's adapter-applied logits (llama and qwen2), as does the
// merged export; a few LoRA training steps change only the adapters and resume bit-identically; a
// wrong adapter file is refused with an error naming what is wrong.
#include "common/random_model.h"
#include "gguf/gguf_lora.h"
#include "llama/llama_model.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/export.h"
#include "model/lora.h"
#include "model/trainer.h"
#include "llama_ctx.h"
#include "test_util.h"

#include "llama.h"

#include <gtest/gtest.h>

#include <fstream>

namespace grm::model {
namespace {

constexpr double k_merge_tol      = 1e-5;  // max |logit diff|: W x + s B (A x) vs (W + s B A) x, both libtorch f32
constexpr double k_f32_logit_tol  = 1e-4;  // as test_llama_parity: llama.cpp vs libtorch, f32 weights and KV cache

LoraParams rank4() {
    LoraParams p;
    p.rank  = 4;
    p.alpha = 8;
    return p;
}

// Adapters with B != 0 (B starts at zero, which would make every comparison trivial).
void randomize_adapters(TransformerImpl & m, uint64_t seed, double std = 0.2) {
    torch::NoGradGuard ng;
    auto               gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    for (auto & p : m.named_parameters())
        if (is_lora_parameter(p.key())) p.value().copy_(torch::empty(p.value().sizes()).normal_(0.0, std, gen));
}

torch::Tensor last_logits(TransformerImpl & m, const std::vector<int32_t> & p) {
    torch::NoGradGuard g;
    return m.forward(torch::tensor(std::vector<int64_t>(p.begin(), p.end())).view({1, -1}))[0][-1];
}

const std::vector<std::vector<int32_t>> k_prompts = {{1, 3, 4, 5, 6}, {1, 90, 10, 200, 7, 7, 7, 31, 64, 150, 2, 8}, {1}};

TEST(Lora, ForwardEqualsMergedWeights) {
    for (Arch arch : {Arch::llama, Arch::qwen2}) {
        auto        cfg = test::tiny_config(256, /*gqa=*/true, /*tied=*/false, arch);
        Transformer m(cfg);
        m->init_weights(3);
        m->add_lora(rank4(), 9);
        // Fresh adapters: B = 0, the model is unchanged.
        Transformer base(cfg);
        base->init_weights(3);
        EXPECT_TRUE(torch::equal(last_logits(*m, k_prompts[1]), last_logits(*base, k_prompts[1])));
        randomize_adapters(*m, 5);
        Transformer merged(cfg);
        {
            torch::NoGradGuard ng;
            auto               dst = merged->named_parameters();
            for (const auto & [name, t] : base_parameters(*m)) dst[name].copy_(t);
        }
        double max_diff = 0, moved = 0;
        for (const auto & p : k_prompts) {
            auto want = last_logits(*m, p);
            max_diff  = std::max(max_diff, (want - last_logits(*merged, p)).abs().max().item<double>());
            moved     = std::max(moved, (want - last_logits(*base, p)).abs().max().item<double>());
            LoraOff off(*m);  // adapters off: exactly the base model
            EXPECT_TRUE(torch::equal(last_logits(*m, p), last_logits(*base, p)));
        }
        EXPECT_LT(max_diff, k_merge_tol) << arch_name(arch);
        EXPECT_GT(moved, 100 * k_merge_tol) << "the adapters should change the logits";
        std::printf("[lora merge %s] max |logit diff| adapted vs merged %.3g (adapters move logits by %.3g)\n", arch_name(arch),
                    max_diff, moved);
    }
}

TEST(Lora, AddLoraFreezesTheBase) {
    Transformer m(test::tiny_config(64, false, true));
    LoraParams  p = rank4();
    p.targets     = {"attn_q", "ffn_down"};
    m->add_lora(p, 1);
    int64_t adapters = 0;
    for (const auto & t : m->named_parameters()) {
        EXPECT_EQ(t.value().requires_grad(), is_lora_parameter(t.key())) << t.key();
        adapters += is_lora_parameter(t.key());
    }
    EXPECT_EQ(adapters, 2 * 2 * 2);  // layers x targets x (A, B)
    auto params = m->named_parameters();
    ASSERT_NE(params.find("blk.1.ffn_down.lora_a"), nullptr);
    EXPECT_EQ(params["blk.1.ffn_down.lora_a"].sizes().vec(), (std::vector<int64_t>{4, 64}));  // [r, n_ff]
    EXPECT_EQ(params["blk.1.ffn_down.lora_b"].sizes().vec(), (std::vector<int64_t>{32, 4}));  // [n_embd, r]
    EXPECT_TRUE(torch::equal(params["blk.0.attn_q.lora_b"], torch::zeros({32, 4})));
    // The optimizer holds only what trains.
    TrainOptions o;
    auto         opt = make_adamw(*m, o);
    size_t       n   = 0;
    for (const auto & g : opt->param_groups()) n += g.params().size();
    EXPECT_EQ(n, size_t(adapters));

    LoraParams bad = rank4();
    bad.targets    = {"attn_x"};
    EXPECT_FALSE(validate_lora(bad));
    bad       = rank4();
    bad.alpha = 0;
    EXPECT_FALSE(validate_lora(bad));
    auto back = lora_from_json(lora_to_json(p));
    ASSERT_TRUE(back);
    EXPECT_EQ(lora_to_json(*back), lora_to_json(p));
}

struct LlamaCtx {
    std::unique_ptr<llama_context, void (*)(llama_context *)> ctx{nullptr, llama_free};
};

// An f32-KV context on a model (the parity tests' settings), with the adapter set when given.
LlamaCtx make_ctx(llama_model * model, int n_ctx, llama_adapter_lora * adapter = nullptr, float scale = 1.0f) {
    LlamaCtx r;
    r.ctx.reset(llama_init_from_model(model, test::parity_context_params(n_ctx)));
    if (r.ctx && adapter != nullptr) {
        EXPECT_EQ(llama_set_adapters_lora(r.ctx.get(), &adapter, 1, &scale), 0);
    }
    return r;
}

torch::Tensor llama_last_logits(llama_context * ctx, const std::vector<int32_t> & prompt) {
    return torch::tensor(test::last_logits(ctx, prompt));
}

// A random base GGUF (weights of deviation 0.3, as the import parity test) read into the Transformer,
// adapters on every projection with random A and B, exported as an adapter GGUF; llama.cpp loads the
// base through grm's LlamaModel (which checks the adapter file) and applies the adapter.
void check_adapter_parity(LlamaConfig c) {
    test::TempDir     dir("lora-parity");
    const std::string base_path = dir / "base.gguf";
    ASSERT_TRUE(write_gguf_llama(base_path, random_llama_model(c, 23, 0.3f)));
    auto g = read_gguf_llama(base_path);
    ASSERT_TRUE(g) << g.error().to_string();
    Transformer m(g->config);
    ASSERT_TRUE(load_gguf_weights(*g, *m));
    m->add_lora(rank4(), 7);
    randomize_adapters(*m, 11, 0.3);
    const std::string adapter_path = dir / "adapter.gguf";
    ASSERT_TRUE(export_lora_adapter(*m, adapter_path));
    const std::string merged_path = dir / "merged.gguf";
    ASSERT_TRUE(export_gguf(*m, g->vocab, merged_path, GgufType::f32));

    auto base = LlamaModel::load(base_path);
    ASSERT_TRUE(base) << base.error().to_string();
    auto adapter = (*base)->lora_adapter(adapter_path);
    ASSERT_TRUE(adapter) << adapter.error().to_string();
    auto again = (*base)->lora_adapter(adapter_path);  // loaded once per model
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *adapter);
    auto with    = make_ctx((*base)->get(), c.n_ctx, *adapter);
    auto without = make_ctx((*base)->get(), c.n_ctx);
    auto merged  = LlamaModel::load(merged_path);
    ASSERT_TRUE(merged) << merged.error().to_string();
    auto merged_ctx = make_ctx((*merged)->get(), c.n_ctx);
    ASSERT_TRUE(with.ctx && without.ctx && merged_ctx.ctx);

    double max_diff = 0, merged_diff = 0, moved = 0, base_diff = 0;
    for (const auto & p : k_prompts) {
        auto want    = last_logits(*m, p);
        auto adapted = llama_last_logits(with.ctx.get(), p);
        max_diff     = std::max(max_diff, (adapted - want).abs().max().item<double>());
        merged_diff  = std::max(merged_diff, (llama_last_logits(merged_ctx.ctx.get(), p) - adapted).abs().max().item<double>());
        auto plain   = llama_last_logits(without.ctx.get(), p);
        moved        = std::max(moved, (plain - want).abs().max().item<double>());
        LoraOff off(*m);
        base_diff = std::max(base_diff, (plain - last_logits(*m, p)).abs().max().item<double>());
    }
    EXPECT_LT(max_diff, k_f32_logit_tol);
    EXPECT_LT(merged_diff, k_f32_logit_tol);
    EXPECT_LT(base_diff, k_f32_logit_tol);
    EXPECT_GT(moved, 100 * k_f32_logit_tol) << "the adapter should change llama.cpp's logits";
    std::printf("[lora parity %s qkv_bias=%d gqa=%d] max |logit diff| llama.cpp+adapter vs libtorch %.3g, merged GGUF vs "
                "adapter %.3g (the adapter moves logits by %.3g)\n",
                arch_name(c.arch), c.qkv_bias, c.n_head_kv < c.n_head, max_diff, merged_diff, moved);

    // The adapter file reads back as written.
    auto back = read_gguf_lora(adapter_path);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->arch, arch_name(c.arch));
    EXPECT_FLOAT_EQ(back->alpha, 8.0f);
    EXPECT_EQ(back->tensors.size(), size_t(c.n_layer * 7 * 2));
    EXPECT_EQ(back->tensors[0].name, "blk.0.attn_q.weight.lora_a");
}

TEST(Lora, LlamaCppAdapterMatchesLibtorchLlama) { check_adapter_parity(test::tiny_config(0, /*gqa=*/true, /*tied=*/false)); }
TEST(Lora, LlamaCppAdapterMatchesLibtorchQwen2) {
    check_adapter_parity(test::tiny_config(0, /*gqa=*/false, /*tied=*/true, Arch::qwen2));
}

// Each wrong adapter is refused before llama.cpp sees it, with the reason in the message.
TEST(Lora, BadAdapterFilesAreNamed) {
    test::TempDir     dir("lora-bad");
    auto              c         = test::tiny_config(0, true, false);
    const std::string base_path = dir / "base.gguf";
    ASSERT_TRUE(write_gguf_llama(base_path, random_llama_model(c, 1)));
    auto base = LlamaModel::load(base_path);
    ASSERT_TRUE(base);
    auto expect_error = [&](const std::string & path, const std::string & needle) {
        auto a = (*base)->lora_adapter(path);
        ASSERT_FALSE(a) << path;
        EXPECT_NE(a.error().message.find(needle), std::string::npos) << a.error().message;
    };
    expect_error(dir / "missing.gguf", "does not exist");
    {
        std::ofstream(dir / "junk.gguf") << "not a gguf";
    }
    expect_error(dir / "junk.gguf", "not a readable GGUF");
    expect_error(base_path, "not a LoRA adapter");

    // A good adapter for this base, then variations of it.
    auto g = read_gguf_llama(base_path);
    ASSERT_TRUE(g);
    Transformer m(g->config);
    ASSERT_TRUE(load_gguf_weights(*g, *m));
    m->add_lora(rank4(), 1);
    auto good = to_gguf_lora(*m);
    ASSERT_TRUE(good);

    auto other_arch = *good;
    other_arch.arch = "qwen2";
    ASSERT_TRUE(write_gguf_lora(dir / "arch.gguf", other_arch));
    expect_error(dir / "arch.gguf", "architecture 'qwen2'");

    auto wide = c;  // an adapter trained on a wider model
    wide.n_embd = 64;
    Transformer w(wide);
    w->add_lora(rank4(), 1);
    auto wrong_shape = to_gguf_lora(*w);
    ASSERT_TRUE(wrong_shape);
    ASSERT_TRUE(write_gguf_lora(dir / "shape.gguf", *wrong_shape));
    expect_error(dir / "shape.gguf", "in the model, but lora_a is [4, 64]");

    auto half = *good;
    half.tensors.pop_back();  // blk.1.ffn_down.weight.lora_b
    ASSERT_TRUE(write_gguf_lora(dir / "half.gguf", half));
    expect_error(dir / "half.gguf", "'blk.1.ffn_down.weight' has .lora_a but no .lora_b");

    auto extra = *good;
    extra.tensors[0].name = "blk.9.attn_q.weight.lora_a";
    extra.tensors[1].name = "blk.9.attn_q.weight.lora_b";
    ASSERT_TRUE(write_gguf_lora(dir / "extra.gguf", extra));
    expect_error(dir / "extra.gguf", "adapts 'blk.9.attn_q.weight', which the model");

    ASSERT_TRUE(write_gguf_lora(dir / "good.gguf", *good));
    EXPECT_TRUE((*base)->lora_adapter(dir / "good.gguf"));
}

// LoRA training: only the adapters move, the loss falls, and save + restore continues exactly.
TEST(Lora, TrainingMovesOnlyAdaptersAndResumes) {
    const auto   cfg = test::tiny_config(16, false, true);
    TrainOptions o;
    o.steps  = 12;
    o.batch  = 4;
    o.seq    = 32;
    o.lr     = 2e-2;
    o.warmup = 2;
    auto make = [&] {
        Transformer m(cfg);
        m->init_weights(17);
        m->add_lora(rank4(), 3);
        return m;
    };
    auto data = [&] { return std::make_shared<PackedDataset>(test::pattern_examples(64, 16, 40, 2), o.batch, o.seq, o.seed); };
    Transformer base(cfg);
    base->init_weights(17);

    Transformer straight = make();
    LmTrainer   a(straight, data(), o);
    std::vector<double> losses;
    for (int i = 0; i < o.steps; ++i) losses.push_back(a.step().loss);
    for (double l : losses) EXPECT_TRUE(std::isfinite(l));
    EXPECT_LT(losses.back(), losses.front() * 0.9) << losses.front() << " -> " << losses.back();
    auto params = straight->named_parameters();
    for (const auto & p : base->named_parameters())
        EXPECT_TRUE(torch::equal(p.value(), params[p.key()])) << p.key() << " moved";
    EXPECT_FALSE(torch::equal(params["blk.0.attn_q.lora_b"], torch::zeros_like(params["blk.0.attn_q.lora_b"])));

    test::TempDir dir("lora-resume");
    Transformer   first = make();
    LmTrainer     b(first, data(), o);
    for (int i = 0; i < 5; ++i) b.step();
    ASSERT_TRUE(b.save(dir / "ckpt"));
    auto meta = read_checkpoint_meta(dir / "ckpt");
    ASSERT_TRUE(meta);
    EXPECT_EQ(lora_to_json(meta->lora), lora_to_json(rank4()));
    Transformer resumed = make();
    LmTrainer   r(resumed, data(), o);
    ASSERT_TRUE(r.restore(dir / "ckpt", 0));
    double last = 0;
    for (int i = 5; i < o.steps; ++i) last = r.step().loss;
    EXPECT_EQ(last, losses.back());
    auto rp = resumed->named_parameters();
    for (const auto & p : straight->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), rp[p.key()])) << p.key();

    // A model without adapters refuses the LoRA checkpoint; the merged load gives W + s B A.
    Transformer plain(cfg);
    LmTrainer   no_lora(plain, data(), o);
    EXPECT_FALSE(no_lora.restore(dir / "ckpt", 0));
    auto merged = load_merged_lm(dir / "ckpt");
    ASSERT_TRUE(merged) << merged.error().to_string();
    EXPECT_EQ((*merged)->named_parameters().size(), base->named_parameters().size());
    EXPECT_LT((last_logits(**merged, {1, 3, 4}) - last_logits(*first, {1, 3, 4})).abs().max().item<double>(), k_merge_tol);
}

}  // namespace
}  // namespace grm::model
