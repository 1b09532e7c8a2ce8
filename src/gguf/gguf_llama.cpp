// GGUF writer for Llama-architecture models (ggml's gguf API), plus tiny-fixture helpers.
#include "gguf/gguf_llama.h"

#include "ggml.h"
#include "gguf.h"

#include <cstdio>
#include <random>
#include <unistd.h>

namespace grm {

const char * k_chatml_template =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

namespace {

Status check_tensor(const NamedTensor & t) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    if (t.shape.empty() || t.shape.size() > 2 || n != (int64_t) t.data.size()) {
        return make_error(Errc::invalid_argument, "tensor '" + t.name + "': shape does not match its data");
    }
    return ok_status();
}

}  // namespace

Status write_gguf_llama(const std::string & path, const GgufLlamaModel & m, GgufType type) {
    const LlamaConfig & c = m.config;
    const Vocab &       v = m.vocab;
    if (c.n_embd % c.n_head != 0 || c.n_head % c.n_head_kv != 0) {
        return make_error(Errc::invalid_argument, "config: n_embd must divide by n_head and n_head by n_head_kv");
    }
    if (v.pieces.size() != v.scores.size() || v.pieces.size() != v.types.size() || (int) v.pieces.size() != c.n_vocab) {
        return make_error(Errc::invalid_argument, "vocab: pieces/scores/types sizes must all equal n_vocab (" +
                                                      std::to_string(c.n_vocab) + ")");
    }
    size_t bytes = 0;
    for (const auto & t : m.tensors) {
        if (auto st = check_tensor(t); !st) return st;
        bytes += t.data.size() * sizeof(float) + ggml_tensor_overhead();
    }
    ggml_init_params ip = { bytes + 1024 * 1024, nullptr, false };
    ggml_context *   ctx = ggml_init(ip);
    gguf_context *   g   = gguf_init_empty();

    gguf_set_val_str(g, "general.architecture", "llama");
    gguf_set_val_str(g, "general.name", m.name.c_str());
    gguf_set_val_u32(g, "general.file_type", type == GgufType::f16 ? 1 : 0);
    gguf_set_val_u32(g, "llama.context_length", c.n_ctx);
    gguf_set_val_u32(g, "llama.embedding_length", c.n_embd);
    gguf_set_val_u32(g, "llama.block_count", c.n_layer);
    gguf_set_val_u32(g, "llama.feed_forward_length", c.n_ff);
    gguf_set_val_u32(g, "llama.attention.head_count", c.n_head);
    gguf_set_val_u32(g, "llama.attention.head_count_kv", c.n_head_kv);
    gguf_set_val_f32(g, "llama.attention.layer_norm_rms_epsilon", c.rms_eps);
    gguf_set_val_u32(g, "llama.rope.dimension_count", c.head_dim());
    gguf_set_val_f32(g, "llama.rope.freq_base", c.rope_theta);
    gguf_set_val_u32(g, "llama.vocab_size", c.n_vocab);

    std::vector<const char *> pieces;
    for (const auto & p : v.pieces) pieces.push_back(p.c_str());
    gguf_set_val_str(g, "tokenizer.ggml.model", "llama");
    gguf_set_arr_str(g, "tokenizer.ggml.tokens", pieces.data(), pieces.size());
    gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v.scores.data(), v.scores.size());
    gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v.types.data(), v.types.size());
    gguf_set_val_u32(g, "tokenizer.ggml.bos_token_id", v.bos_id);
    gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", v.eos_id);
    gguf_set_val_u32(g, "tokenizer.ggml.unknown_token_id", v.unk_id);
    if (v.pad_id >= 0) gguf_set_val_u32(g, "tokenizer.ggml.padding_token_id", v.pad_id);
    gguf_set_val_bool(g, "tokenizer.ggml.add_bos_token", v.add_bos);
    gguf_set_val_bool(g, "tokenizer.ggml.add_eos_token", false);
    if (!v.add_space_prefix) gguf_set_val_bool(g, "tokenizer.ggml.add_space_prefix", false);
    if (!m.chat_template.empty()) gguf_set_val_str(g, "tokenizer.chat_template", m.chat_template.c_str());

    for (const auto & t : m.tensors) {
        // torch [rows, cols] row-major == ggml ne = {cols, rows}
        const int64_t ne0  = t.shape.back();
        const int64_t ne1  = t.shape.size() == 2 ? t.shape[0] : 1;
        const bool    half = type == GgufType::f16 && t.shape.size() == 2;
        ggml_tensor * x    = t.shape.size() == 2 ? ggml_new_tensor_2d(ctx, half ? GGML_TYPE_F16 : GGML_TYPE_F32, ne0, ne1)
                                                 : ggml_new_tensor_1d(ctx, GGML_TYPE_F32, ne0);
        ggml_set_name(x, t.name.c_str());
        if (half) ggml_fp32_to_fp16_row(t.data.data(), (ggml_fp16_t *) x->data, (int64_t) t.data.size());
        else std::copy(t.data.begin(), t.data.end(), (float *) x->data);
        gguf_add_tensor(g, x);
    }

    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    const bool        ok  = gguf_write_to_file(g, tmp.c_str(), false);
    gguf_free(g);
    ggml_free(ctx);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return make_error(Errc::io, "cannot write '" + path + "'");
    }
    return ok_status();
}

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
    add("<|im_start|>", 3);
    add("<|im_end|>", 3);
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

GgufLlamaModel random_llama_model(LlamaConfig c, uint64_t seed) {
    GgufLlamaModel m;
    m.name          = "grm-random-fixture";
    m.vocab         = byte_level_vocab();
    c.n_vocab       = (int) m.vocab.pieces.size();
    m.config        = c;
    m.chat_template = k_chatml_template;
    std::mt19937_64                 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    auto add = [&](const std::string & name, std::vector<int64_t> shape, bool ones = false) {
        NamedTensor t{ name, shape, {} };
        int64_t     n = 1;
        for (int64_t d : shape) n *= d;
        t.data.resize(n);
        for (auto & x : t.data) x = ones ? 1.0f : normal(rng);
        m.tensors.push_back(std::move(t));
    };
    const int64_t d = c.n_embd, kv = (int64_t) c.n_head_kv * c.head_dim();
    add("token_embd.weight", { c.n_vocab, d });
    for (int l = 0; l < c.n_layer; l++) {
        const std::string b = "blk." + std::to_string(l) + ".";
        add(b + "attn_norm.weight", { d }, true);
        add(b + "attn_q.weight", { d, d });
        add(b + "attn_k.weight", { kv, d });
        add(b + "attn_v.weight", { kv, d });
        add(b + "attn_output.weight", { d, d });
        add(b + "ffn_norm.weight", { d }, true);
        add(b + "ffn_gate.weight", { c.n_ff, d });
        add(b + "ffn_up.weight", { c.n_ff, d });
        add(b + "ffn_down.weight", { d, c.n_ff });
    }
    add("output_norm.weight", { d }, true);
    if (!c.tied_embeddings) add("output.weight", { c.n_vocab, d });
    return m;
}

}  // namespace grm
