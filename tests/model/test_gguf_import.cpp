// GGUF -> Transformer (`grm import --gguf`): grm's own exports come back exactly (f32) or to half
// precision (f16); what cannot be imported is named.
#include "common/random_model.h"
#include "model/export.h"
#include "model/transformer.h"
#include "test_util.h"

#include "gguf.h"
#include "llama.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
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
    const std::string qwen = dir / "qwen.gguf";
    gguf_context *    g    = gguf_init_empty();
    gguf_set_val_str(g, "general.architecture", "qwen2");
    ASSERT_TRUE(gguf_write_to_file(g, qwen.c_str(), false));
    gguf_free(g);
    r = read_gguf_llama(qwen);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, qwen + ": architecture 'qwen2'; only 'llama' models can be read");
    const std::string text = dir / "notes.gguf";
    std::ofstream(text) << "not a model\n";
    r = read_gguf_llama(text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "not a readable GGUF file: " + text);
}

}  // namespace
}  // namespace grm::model
