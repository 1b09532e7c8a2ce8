// GGUF -> Transformer (`grm import --gguf`): grm's own exports come back exactly (f32) or to half
// precision (f16), a qwen2 file round-trips byte for byte; what cannot be imported is named.
#include "common/random_model.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/export.h"
#include "model/transformer.h"
#include "test_util.h"

#include "ggml.h"
#include "gguf.h"
#include "llama.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <tuple>

namespace grm::model {
namespace {

using test::TempDir;

// A tiny Transformer sized to the byte-level fixture vocab, random weights of the given seed.
Transformer tiny_net(bool tied, uint64_t seed) {
    Transformer net(test::tiny_config((int) byte_level_vocab().pieces.size(), /*gqa=*/true, tied));
    net->init_weights(seed);
    return net;
}

TEST(GgufImport, F32ComesBackBitIdenticalF16ToHalfPrecision) {
    TempDir dir("gguf-import");
    for (bool tied : {true, false}) {
        Transformer a = tiny_net(tied, 3);
        for (GgufType type : {GgufType::f32, GgufType::f16}) {
            const std::string path = dir / "m.gguf";
            ASSERT_TRUE(export_gguf(*a, byte_level_vocab(), path, type, "tiny"));
            auto m = read_gguf_llama(path);
            ASSERT_TRUE(m) << m.error().to_string();
            const LlamaConfig & c = m->config, & want = a->config();
            EXPECT_EQ(m->name, "tiny");
            EXPECT_EQ(std::tie(c.n_vocab, c.n_ctx, c.n_embd, c.n_layer, c.n_head, c.n_head_kv, c.n_ff),
                      std::tie(want.n_vocab, want.n_ctx, want.n_embd, want.n_layer, want.n_head, want.n_head_kv, want.n_ff));
            EXPECT_EQ(c.tied_embeddings, tied);
            EXPECT_FLOAT_EQ(c.rms_eps, want.rms_eps);
            EXPECT_FLOAT_EQ(c.rope_theta, want.rope_theta);
            EXPECT_EQ(m->vocab.pieces, byte_level_vocab().pieces);
            EXPECT_EQ(m->chat_template, k_chatml_template);

            Transformer b(c);
            b->init_weights(4);
            ASSERT_TRUE(load_gguf_weights(*m, *b));
            auto pb = b->named_parameters();
            for (const auto & p : a->named_parameters()) {
                const auto & x = p.value();
                const auto & y = pb[p.key()];
                if (type == GgufType::f32 || x.dim() == 1) {  // norms stay f32 in an f16 file
                    EXPECT_TRUE(torch::equal(x, y)) << p.key();
                } else {
                    // f16 keeps 11 significant bits: relative error <= 2^-11; subnormals below 6e-5
                    // are kept to 6e-8 absolute
                    EXPECT_TRUE(((x - y).abs() <= x.abs() * 4.9e-4 + 6e-8).all().item<bool>()) << p.key();
                    EXPECT_FALSE(torch::equal(x, y)) << p.key();
                }
            }
        }
    }
}

TEST(GgufImport, NamesWhatCannotBeImported) {
    TempDir     dir("gguf-import");
    Transformer a = tiny_net(true, 5);
    auto        m = to_gguf_model(*a, byte_level_vocab());
    ASSERT_TRUE(m);

    // A tensor the model needs is missing; one it does not know is there.
    GgufLlamaModel missing = *m;
    missing.tensors.erase(std::remove_if(missing.tensors.begin(), missing.tensors.end(),
                                         [](const NamedTensor & t) { return t.name == "output_norm.weight"; }),
                          missing.tensors.end());
    Transformer b(m->config);
    auto        st = load_gguf_weights(missing, *b);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "the GGUF model has no tensor 'output_norm.weight'");
    GgufLlamaModel extra = *m;
    extra.tensors.push_back({"rope_freqs.weight", {8}, std::vector<float>(8, 1.0f)});
    st = load_gguf_weights(extra, *b);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "the GGUF model has a tensor grm's model does not: 'rope_freqs.weight'");
    GgufLlamaModel narrow = *m;
    narrow.tensors[0].shape = {narrow.tensors[0].shape[1], narrow.tensors[0].shape[0]};
    st = load_gguf_weights(narrow, *b);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "tensor 'token_embd.weight' is [32, 228] in the GGUF model, the model expects [228, 32]");

    // No token embedding: nothing gives the vocab size.
    GgufLlamaModel no_embd = missing;
    no_embd.tensors.erase(no_embd.tensors.begin());  // token_embd.weight
    ASSERT_TRUE(write_gguf_llama(dir / "no-embd.gguf", no_embd));
    auto r = read_gguf_llama(dir / "no-embd.gguf");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, dir / "no-embd.gguf" + ": no token_embd.weight");

    // Quantized weights (llama.cpp's own quantizer, Q8_0).
    const std::string f32 = dir / "f32.gguf", q8 = dir / "q8.gguf";
    ASSERT_TRUE(write_gguf_llama(f32, *m));
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);  // the quantizer's per-tensor lines
    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.ftype                       = LLAMA_FTYPE_MOSTLY_Q8_0;
    qp.nthread                     = 1;
    ASSERT_EQ(llama_model_quantize(f32.c_str(), q8.c_str(), &qp), 0u);
    r = read_gguf_llama(q8);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find(": tensor 'token_embd.weight' is q8_0; only f32 and f16 weights can be read"),
              std::string::npos)
        << r.error().message;

    // Another architecture, and a file that is not GGUF at all.
    const std::string phi = dir / "phi.gguf";
    gguf_context *    g   = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "phi3");
    ASSERT_TRUE(gguf_write_to_file(g, phi.c_str(), false));
    gguf_free(g);
    r = read_gguf_llama(phi);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, phi + ": architecture 'phi3'; only 'llama' and 'qwen2' models can be read");
    const std::string text = dir / "notes.gguf";
    std::ofstream(text) << "not a model\n";
    r = read_gguf_llama(text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "not a readable GGUF file: " + text);
}

// `orig` through `grm import --gguf` and `grm export`: GGUF -> Transformer -> checkpoint +
// config.json -> Transformer -> GGUF gives the same bytes, f32 and f16 (f16 -> f32 -> f16 is exact).
void check_round_trip(const GgufLlamaModel & orig) {
    TempDir dir("roundtrip");
    for (GgufType type : {GgufType::f32, GgufType::f16}) {
        const std::string in = dir / "in.gguf", out = dir / "out.gguf", run = dir / "run";
        ASSERT_TRUE(write_gguf_llama(in, orig, type));
        auto m = read_gguf_llama(in);
        ASSERT_TRUE(m) << m.error().to_string();
        EXPECT_EQ(config_to_json(m->config), config_to_json(orig.config));  // arch, biases, theta, factors
        ASSERT_TRUE(validate_config(m->config));
        Transformer a(m->config);
        ASSERT_TRUE(load_gguf_weights(*m, *a));
        EXPECT_EQ(parameter_count(m->config), [&] {
            int64_t n = 0;
            for (const auto & p : a->parameters()) n += p.numel();
            return n;
        }());

        // What cmd_import writes and cmd_export reads back.
        CheckpointMeta meta;
        meta.config = m->config;
        ASSERT_TRUE(save_checkpoint(run + "/step-0000000", *a, nullptr, meta));
        ASSERT_TRUE(save_config(run + "/config.json", m->config));
        auto cfg = load_config(run + "/config.json");
        ASSERT_TRUE(cfg) << cfg.error().to_string();
        auto back = read_checkpoint_meta(run + "/step-0000000");
        ASSERT_TRUE(back);
        EXPECT_EQ(config_to_json(back->config), config_to_json(orig.config));
        EXPECT_EQ(config_to_json(*cfg), config_to_json(orig.config));
        Transformer b(back->config);
        ASSERT_TRUE(load_checkpoint_model(run + "/step-0000000", *b));
        auto vocab = read_gguf_vocab(in);
        ASSERT_TRUE(vocab);
        ASSERT_TRUE(export_gguf(*b, *vocab, out, type, orig.name));

        auto bytes = [](const std::string & p) {
            std::ifstream f(p, std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(f), {});
        };
        const std::string x = bytes(in), y = bytes(out);
        EXPECT_GT(x.size(), 10000u);
        EXPECT_TRUE(x == y) << (type == GgufType::f16 ? "f16" : "f32") << ": " << x.size() << " vs " << y.size() << " bytes";
    }
}

// Qwen2: GQA, untied, theta 1e6, q/k/v biases.
TEST(GgufImport, Qwen2ImportExportRoundTripIsByteIdentical) {
    const auto orig = random_llama_model(test::tiny_config(0, /*gqa=*/true, /*tied=*/false, Arch::qwen2), 7, 0.3f);
    ASSERT_EQ(orig.config.arch, Arch::qwen2);
    check_round_trip(orig);
}

// Llama 3.1: rope_freqs.weight (written first, as llama.cpp's converter does) and 70,000 pieces.
TEST(GgufImport, Llama31RopeScalingVocab70kRoundTripIsByteIdentical) {
    auto c              = test::tiny_config(0, /*gqa=*/true, /*tied=*/true);
    c.rope_freq_factors = test::llama31_rope_factors(c, 8.0, 1.0, 4.0, 64);
    const auto orig     = random_llama_model(c, 8, 0.3f, 70000);
    ASSERT_EQ(orig.config.n_vocab, 70000);
    check_round_trip(orig);
    TempDir dir("rope-freqs");
    ASSERT_TRUE(write_gguf_llama(dir / "m.gguf", orig));
    gguf_context * g = gguf_init_from_file((dir / "m.gguf").c_str(), gguf_init_params{true, nullptr});
    ASSERT_NE(g, nullptr);
    EXPECT_STREQ(gguf_get_tensor_name(g, 0), "rope_freqs.weight");
    gguf_free(g);
}

// rope_freqs.weight of the wrong size is named when read, as is scaling grm's rotary does not do
// (YaRN, linear); the factors are refused where llama.cpp would not apply them (qwen2) or they do not fit.
TEST(GgufImport, RopeScalingErrorsAreNamed) {
    TempDir dir("rope-freqs-bad");
    auto    c           = test::tiny_config(0, /*gqa=*/false, /*tied=*/true);
    c.rope_freq_factors = {1.0f, 2.0f, 4.0f};  // head_dim 8: 4 expected
    ASSERT_TRUE(write_gguf_llama(dir / "m.gguf", random_llama_model(c, 3)));
    auto r = read_gguf_llama(dir / "m.gguf");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, dir / "m.gguf" + ": rope_freqs.weight has 3 values; head_dim/2 = 4 expected");
    // A valid file with a scaling key added (gguf's own API, as a converter writes it).
    const std::string plain = dir / "plain.gguf", yarn = dir / "yarn.gguf", linear = dir / "linear.gguf";
    ASSERT_TRUE(write_gguf_llama(plain, random_llama_model(test::tiny_config(0, false, true, Arch::qwen2), 3)));
    for (const auto & [out, type] : {std::pair<std::string, std::string>{yarn, "yarn"}, {linear, "linear"}}) {
        ggml_context * data = nullptr;
        gguf_context * src  = gguf_init_from_file(plain.c_str(), gguf_init_params{false, &data});
        ASSERT_NE(src, nullptr);
        gguf_context * g = gguf_init_empty();
        gguf_set_kv(g, src);
        for (int64_t i = 0; i < gguf_get_n_tensors(src); ++i) gguf_add_tensor(g, ggml_get_tensor(data, gguf_get_tensor_name(src, i)));
        if (type == "yarn") gguf_set_val_str(g, "qwen2.rope.scaling.type", "yarn");
        else gguf_set_val_f32(g, "qwen2.rope.scale_linear", 4.0f);
        ASSERT_TRUE(gguf_write_to_file(g, out.c_str(), false));
        gguf_free(g);
        gguf_free(src);
        ggml_free(data);
        r = read_gguf_llama(out);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().message, out + ": rope scaling '" + type + "' is not supported (only Llama 3.1's rope_freqs.weight)");
    }
    ASSERT_TRUE(read_gguf_llama(plain));
    c.n_vocab = 228;
    auto st   = validate_config(c);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "config: rope_freq_factors has 3 values, head size / 2 is 4");
    c.rope_freq_factors = {1.0f, 2.0f, 0.0f, 4.0f};
    EXPECT_EQ(validate_config(c).error().message, "config: rope_freq_factors must be positive");
    c                   = test::tiny_config(228, false, true, Arch::qwen2);
    c.rope_freq_factors = {1.0f, 2.0f, 4.0f, 8.0f};
    EXPECT_EQ(validate_config(c).error().message, "config: rope_freq_factors are read by llama.cpp for arch llama only");
}

// q/k/v biases of the wrong shape, or missing, are named; a qwen2 config without them is refused.
TEST(GgufImport, Qwen2BiasErrorsNameTheTensor) {
    TempDir    dir("qwen2-bias");
    const auto orig = random_llama_model(test::tiny_config(0, /*gqa=*/true, /*tied=*/false, Arch::qwen2), 9);
    auto       load = [&](GgufLlamaModel m) -> Status {
        const std::string path = dir / "m.gguf";
        if (auto st = write_gguf_llama(path, m); !st) return st;
        auto r = read_gguf_llama(path);
        if (!r) return r.error();
        Transformer net(r->config);
        return load_gguf_weights(*r, *net);
    };
    auto with = [&](const std::string & name, std::vector<int64_t> shape) {  // that tensor resized (or dropped)
        GgufLlamaModel m = orig;
        for (auto it = m.tensors.begin(); it != m.tensors.end(); ++it) {
            if (it->name != name) continue;
            if (shape.empty()) {
                m.tensors.erase(it);
            } else {
                it->shape = shape;
                it->data.assign(size_t(shape[0]), 0.5f);
            }
            return m;
        }
        ADD_FAILURE() << "no " << name;
        return m;
    };
    ASSERT_TRUE(load(orig));
    auto st = load(with("blk.1.attn_k.bias", {8}));  // kv = 2 heads x 8 = 16
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "tensor 'blk.1.attn_k.bias' is [8] in the GGUF model, the model expects [16]");
    st = load(with("blk.0.attn_q.bias", {33}));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "tensor 'blk.0.attn_q.bias' is [33] in the GGUF model, the model expects [32]");
    st = load(with("blk.0.attn_v.bias", {}));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "the GGUF model has no tensor 'blk.0.attn_v.bias'");

    LlamaConfig c = orig.config;
    c.qkv_bias    = false;
    st            = validate_config(c);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "config: arch qwen2 has q/k/v biases (qkv_bias must be true)");
}

// config.json: files without "arch" are llama without biases (older checkpoints); qwen2 gets its
// biases by default; an unknown arch is named.
TEST(GgufImport, ConfigJsonArchIsBackwardCompatible) {
    nlohmann::json j = {{"n_vocab", 50}};  // n_embd 64, n_head 4, 2 layers
    auto           c = config_from_json(j);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->arch, Arch::llama);
    EXPECT_FALSE(c->qkv_bias);
    EXPECT_TRUE(c->rope_freq_factors.empty());
    EXPECT_FALSE(c->rope_neox());
    LlamaConfig llama;  // today's llama with the test's vocabulary
    llama.n_vocab = 50;
    EXPECT_EQ(parameter_count(*c), parameter_count(llama));

    j["arch"] = "qwen2";
    c         = config_from_json(j);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->arch, Arch::qwen2);
    EXPECT_TRUE(c->qkv_bias);
    EXPECT_TRUE(c->rope_neox());
    EXPECT_EQ(config_to_json(*c)["arch"], "qwen2");
    // 2 layers x (q 64 + k 64 + v 64) bias entries
    EXPECT_EQ(parameter_count(*c) - parameter_count(llama), 2 * 192);

    j["arch"]              = "llama";
    j["n_embd"]            = 32;  // head_dim 8
    j["rope_freq_factors"] = {1.0, 1.5, 8.0, 8.0};
    c                      = config_from_json(j);
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_EQ(c->rope_freq_factors, (std::vector<float>{1.0f, 1.5f, 8.0f, 8.0f}));
    EXPECT_EQ(config_from_json(config_to_json(*c))->rope_freq_factors, c->rope_freq_factors);

    j["arch"] = "mistral";
    c         = config_from_json(j);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().message, "config: unknown arch 'mistral' (llama, qwen2)");
}

}  // namespace
}  // namespace grm::model
