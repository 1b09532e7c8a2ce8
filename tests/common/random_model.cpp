// Tiny random Llama, Qwen2 and Gemma-2 GGUF models for tests and benchmarks.
#include "common/random_model.h"

#include <cstdio>
#include <random>

namespace grm {

Vocab byte_level_vocab() {
    Vocab v;
    auto  add = [&](const std::string & p, int type) {
        v.pieces.push_back(p);
        v.scores.push_back(0.0f);
        v.types.push_back(type);
    };
    add("<unk>", 2);
    add("<s>", 3);
    add("</s>", 3);
    add(k_chatml_begin, 3);
    add(k_chatml_end, 3);
    char buf[8];
    // bytes >= 0x80 are left out: a random model sampling them alone would emit invalid UTF-8,
    // which llama-server answers with HTTP 500; non-ASCII text maps to <unk> instead
    for (int b = 0; b < 128; b++) {
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        add(buf, 6);
    }
    add("\xe2\x96\x81", 1);  // U+2581, SentencePiece's space
    for (int ch = 33; ch < 127; ch++) add(std::string(1, (char) ch), 1);
    v.bos_id = 1;
    v.eos_id = 2;
    v.unk_id = 0;
    return v;
}

namespace {

// A model with byte_level_vocab() and ChatML whose tensors add() fills with seeded normal values.
struct RandomModel {
    GgufLlamaModel                  m;
    std::mt19937_64                 rng;
    std::normal_distribution<float> normal;

    RandomModel(LlamaConfig c, uint64_t seed, float std) : rng(seed), normal(0.0f, std) {
        m.name          = "grm-random-fixture";
        m.vocab         = byte_level_vocab();
        c.n_vocab       = (int) m.vocab.pieces.size();
        m.config        = c;
        m.chat_template = k_chatml_template;
    }
    void add(const std::string & name, std::vector<int64_t> shape, bool ones = false) {
        NamedTensor t{ name, shape, {} };
        int64_t     n = 1;
        for (int64_t d : shape) n *= d;
        t.data.resize(n);
        for (auto & x : t.data) x = ones ? 1.0f : normal(rng);
        m.tensors.push_back(std::move(t));
    }
};

}  // namespace

GgufLlamaModel random_llama_model(LlamaConfig config, uint64_t seed, float weight_std, int n_vocab) {
    RandomModel r(config, seed, weight_std);
    for (int i = (int) r.m.vocab.pieces.size(); i < n_vocab; i++) {
        r.m.vocab.pieces.push_back("<extra_" + std::to_string(i) + ">");
        r.m.vocab.scores.push_back(0.0f);
        r.m.vocab.types.push_back(1);
    }
    r.m.config.n_vocab = (int) r.m.vocab.pieces.size();
    const LlamaConfig & c = r.m.config;
    const int64_t d = c.n_embd, kv = (int64_t) c.n_head_kv * c.head_dim();
    r.add("token_embd.weight", { c.n_vocab, d });
    for (int l = 0; l < c.n_layer; l++) {
        const std::string b = "blk." + std::to_string(l) + ".";
        r.add(b + "attn_norm.weight", { d }, true);
        for (const auto & [name, rows] : { std::pair<const char *, int64_t>{ "attn_q", d }, { "attn_k", kv }, { "attn_v", kv } }) {
            r.add(b + name + ".weight", { rows, d });
            if (c.qkv_bias) r.add(b + name + ".bias", { rows });  // the Transformer's parameter order
        }
        r.add(b + "attn_output.weight", { d, d });
        r.add(b + "ffn_norm.weight", { d }, true);
        r.add(b + "ffn_gate.weight", { c.n_ff, d });
        r.add(b + "ffn_up.weight", { c.n_ff, d });
        r.add(b + "ffn_down.weight", { d, c.n_ff });
    }
    r.add("output_norm.weight", { d }, true);
    if (!c.tied_embeddings) r.add("output.weight", { c.n_vocab, d });
    return std::move(r.m);
}

GgufLlamaModel random_gemma2_model(LlamaConfig config, Gemma2Params g, uint64_t seed, float weight_std) {
    config.tied_embeddings = true;  // llama.cpp's gemma2 reuses token_embd as the output
    RandomModel r(config, seed, weight_std);
    r.m.gemma2            = g;
    const LlamaConfig & c = r.m.config;
    const int64_t d = c.n_embd, q = (int64_t) c.n_head * g.head_dim, kv = (int64_t) c.n_head_kv * g.head_dim;
    r.add("token_embd.weight", { c.n_vocab, d });
    for (int l = 0; l < c.n_layer; l++) {
        const std::string b = "blk." + std::to_string(l) + ".";
        r.add(b + "attn_norm.weight", { d }, true);
        r.add(b + "attn_q.weight", { q, d });
        r.add(b + "attn_k.weight", { kv, d });
        r.add(b + "attn_v.weight", { kv, d });
        r.add(b + "attn_output.weight", { d, q });
        r.add(b + "post_attention_norm.weight", { d }, true);
        r.add(b + "ffn_norm.weight", { d }, true);
        r.add(b + "ffn_gate.weight", { c.n_ff, d });
        r.add(b + "ffn_up.weight", { c.n_ff, d });
        r.add(b + "ffn_down.weight", { d, c.n_ff });
        r.add(b + "post_ffw_norm.weight", { d }, true);
    }
    r.add("output_norm.weight", { d }, true);
    return std::move(r.m);
}

}  // namespace grm
