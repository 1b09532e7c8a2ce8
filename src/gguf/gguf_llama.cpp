// GGUF writer (Llama, Qwen2 and Gemma-2) and reader (Llama, Qwen2) for grm's models (ggml's gguf API).
#include "gguf/gguf_llama.h"

#include "ggml.h"
#include "gguf.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <unistd.h>

namespace grm {

namespace {

Status check_tensor(const NamedTensor & t) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    if (t.shape.empty() || t.shape.size() > 2 || n != (int64_t) t.data.size()) {
        return make_error(Errc::invalid_argument, "tensor '" + t.name + "': shape does not match its data");
    }
    return ok_status();
}

using GgufPtr = std::unique_ptr<gguf_context, void (*)(gguf_context *)>;

Result<Vocab> vocab_from(gguf_context * g, const std::string & path) {
    const int64_t k_tok = gguf_find_key(g, "tokenizer.ggml.tokens");
    const int64_t k_sc  = gguf_find_key(g, "tokenizer.ggml.scores");
    const int64_t k_ty  = gguf_find_key(g, "tokenizer.ggml.token_type");
    if (k_tok < 0 || k_sc < 0 || k_ty < 0)
        return make_error(Errc::invalid_argument, path + ": no tokenizer.ggml tokens/scores/token_type");
    const size_t n = gguf_get_arr_n(g, k_tok);
    if (gguf_get_arr_n(g, k_sc) != n || gguf_get_arr_n(g, k_ty) != n ||
        gguf_get_arr_type(g, k_sc) != GGUF_TYPE_FLOAT32 || gguf_get_arr_type(g, k_ty) != GGUF_TYPE_INT32)
        return make_error(Errc::invalid_argument, path + ": tokenizer arrays disagree in size or type");
    Vocab v;
    v.pieces.reserve(n);
    for (size_t i = 0; i < n; ++i) v.pieces.emplace_back(gguf_get_arr_str(g, k_tok, i));
    const auto * sc = static_cast<const float *>(gguf_get_arr_data(g, k_sc));
    const auto * ty = static_cast<const int32_t *>(gguf_get_arr_data(g, k_ty));
    v.scores.assign(sc, sc + n);
    v.types.assign(ty, ty + n);
    auto get_id = [&](const char * key, int & out) {
        const int64_t k = gguf_find_key(g, key);
        if (k >= 0) out = int(gguf_get_val_u32(g, k));
    };
    get_id("tokenizer.ggml.bos_token_id", v.bos_id);
    get_id("tokenizer.ggml.eos_token_id", v.eos_id);
    get_id("tokenizer.ggml.unknown_token_id", v.unk_id);
    get_id("tokenizer.ggml.padding_token_id", v.pad_id);
    const int64_t k_bos = gguf_find_key(g, "tokenizer.ggml.add_bos_token");
    if (k_bos >= 0) v.add_bos = gguf_get_val_bool(g, k_bos);
    const int64_t k_space = gguf_find_key(g, "tokenizer.ggml.add_space_prefix");
    if (k_space >= 0) v.add_space_prefix = gguf_get_val_bool(g, k_space);
    return v;
}

// An integer hyper-parameter as converters write it (u32 by llama.cpp's, i32/u64 by some others).
Result<int64_t> int_key(gguf_context * g, const std::string & key, const std::string & path) {
    const int64_t k = gguf_find_key(g, key.c_str());
    if (k < 0) return make_error(Errc::invalid_argument, path + ": no " + key);
    switch (gguf_get_kv_type(g, k)) {
    case GGUF_TYPE_UINT32: return (int64_t) gguf_get_val_u32(g, k);
    case GGUF_TYPE_INT32: return (int64_t) gguf_get_val_i32(g, k);
    case GGUF_TYPE_UINT64: return (int64_t) gguf_get_val_u64(g, k);
    case GGUF_TYPE_INT64: return gguf_get_val_i64(g, k);
    default: return make_error(Errc::invalid_argument, path + ": " + key + " is not an integer");
    }
}

float float_key(gguf_context * g, const char * key, float fallback) {
    const int64_t k = gguf_find_key(g, key);
    return k >= 0 && gguf_get_kv_type(g, k) == GGUF_TYPE_FLOAT32 ? gguf_get_val_f32(g, k) : fallback;
}

}  // namespace

const char * arch_name(Arch a) { return a == Arch::qwen2 ? "qwen2" : "llama"; }

std::optional<Arch> arch_from_name(const std::string & name) {
    for (Arch a : {Arch::llama, Arch::qwen2})
        if (name == arch_name(a)) return a;
    return std::nullopt;
}

Result<Vocab> read_gguf_vocab(const std::string & path) {
    GgufPtr g(gguf_init_from_file(path.c_str(), gguf_init_params{/*no_alloc=*/true, /*ctx=*/nullptr}), gguf_free);
    if (!g) return make_error(Errc::invalid_argument, "not a readable GGUF file: " + path);
    return vocab_from(g.get(), path);
}

Result<GgufLlamaModel> read_gguf_llama(const std::string & path) {
    ggml_context * raw_ctx = nullptr;
    GgufPtr g(gguf_init_from_file(path.c_str(), gguf_init_params{/*no_alloc=*/false, /*ctx=*/&raw_ctx}), gguf_free);
    std::unique_ptr<ggml_context, void (*)(ggml_context *)> ctx(raw_ctx, ggml_free);
    if (!g || !ctx) return make_error(Errc::invalid_argument, "not a readable GGUF file: " + path);

    GgufLlamaModel m;
    const int64_t  k_arch = gguf_find_key(g.get(), "general.architecture");
    const std::string arch = k_arch >= 0 ? gguf_get_val_str(g.get(), k_arch) : "";
    const auto        known = arch_from_name(arch);
    if (!known)
        return make_error(Errc::invalid_argument,
                          path + ": architecture '" + arch + "'; only 'llama' and 'qwen2' models can be read");
    const int64_t k_name = gguf_find_key(g.get(), "general.name");
    if (k_name >= 0) m.name = gguf_get_val_str(g.get(), k_name);
    const int64_t k_tmpl = gguf_find_key(g.get(), "tokenizer.chat_template");
    if (k_tmpl >= 0) m.chat_template = gguf_get_val_str(g.get(), k_tmpl);

    // SentencePiece-style arrays when present; a BPE vocab (no scores) leaves m.vocab empty, which
    // costs nothing: grm tokenizes through llama.cpp's own vocab of the file.
    if (auto vocab = vocab_from(g.get(), path)) m.vocab = std::move(*vocab);

    LlamaConfig & c = m.config;
    c.arch          = *known;
    auto key        = [&](const char * k) { return arch + "." + k; };  // "qwen2.block_count"
    const std::pair<const char *, int *> required[] = {
        {"embedding_length", &c.n_embd}, {"block_count", &c.n_layer},
        {"feed_forward_length", &c.n_ff}, {"attention.head_count", &c.n_head}};
    for (const auto & [k, out] : required) {
        auto v = int_key(g.get(), key(k), path);
        if (!v) return v.error();
        *out = (int) *v;
    }
    c.n_head_kv = c.n_head;  // absent: no grouped-query attention
    for (const auto & [k, out] : {std::pair<const char *, int *>{"attention.head_count_kv", &c.n_head_kv},
                                  std::pair<const char *, int *>{"context_length", &c.n_ctx}}) {
        if (auto v = int_key(g.get(), key(k), path)) *out = (int) *v;
    }
    c.rms_eps    = float_key(g.get(), key("attention.layer_norm_rms_epsilon").c_str(), c.rms_eps);
    c.rope_theta = float_key(g.get(), key("rope.freq_base").c_str(), c.rope_theta);
    // Scaling from keys (linear, YaRN, ...) would change every angle; the rotary here knows only Llama
    // 3.1's, which comes as the tensor rope_freqs.weight.
    if (const int64_t k = gguf_find_key(g.get(), key("rope.scaling.type").c_str()); k >= 0) {
        const std::string type = gguf_get_kv_type(g.get(), k) == GGUF_TYPE_STRING ? gguf_get_val_str(g.get(), k) : "?";
        if (type != "none")
            return make_error(Errc::invalid_argument, path + ": rope scaling '" + type +
                                                          "' is not supported (only Llama 3.1's rope_freqs.weight)");
    }
    if (float_key(g.get(), key("rope.scale_linear").c_str(), 1.0f) != 1.0f)
        return make_error(Errc::invalid_argument, path + ": rope scaling 'linear' is not supported (only Llama 3.1's "
                                                      "rope_freqs.weight)");
    if (c.n_head <= 0 || c.n_embd % c.n_head != 0)
        return make_error(Errc::invalid_argument, path + ": embedding_length does not divide by head_count");
    if (auto rot = int_key(g.get(), key("rope.dimension_count"), path); rot && *rot != c.head_dim())
        return make_error(Errc::invalid_argument, path + ": rotary dimensions " + std::to_string(*rot) +
                                                      " differ from the head size " + std::to_string(c.head_dim()) +
                                                      " (partial rotary embeddings are not supported)");

    c.tied_embeddings = true;
    c.qkv_bias        = c.arch == Arch::qwen2;  // llama.cpp requires them there; a missing one is named on load
    for (int64_t i = 0; i < gguf_get_n_tensors(g.get()); ++i) {
        const std::string name = gguf_get_tensor_name(g.get(), i);
        const ggml_tensor * x  = ggml_get_tensor(ctx.get(), name.c_str());
        if (x == nullptr) return make_error(Errc::invalid_argument, path + ": tensor '" + name + "' has no data");
        if (ggml_n_dims(x) > 2)
            return make_error(Errc::invalid_argument, path + ": tensor '" + name + "' has more than two dimensions");
        if (x->type != GGML_TYPE_F32 && x->type != GGML_TYPE_F16)
            return make_error(Errc::invalid_argument, path + ": tensor '" + name + "' is " + ggml_type_name(x->type) +
                                                          "; only f32 and f16 weights can be read (export or convert "
                                                          "the model unquantized)");
        NamedTensor t;
        t.name  = name;
        // ggml ne = {cols, rows} == torch [rows, cols] row-major
        t.shape = ggml_n_dims(x) == 2 ? std::vector<int64_t>{x->ne[1], x->ne[0]} : std::vector<int64_t>{x->ne[0]};
        t.data.resize((size_t) ggml_nelements(x));
        if (x->type == GGML_TYPE_F16) ggml_fp16_to_fp32_row((const ggml_fp16_t *) x->data, t.data.data(), ggml_nelements(x));
        else std::copy_n((const float *) x->data, t.data.size(), t.data.begin());
        if (name == "output.weight") c.tied_embeddings = false;
        if (name == "blk.0.attn_q.bias") c.qkv_bias = true;
        if (name == "token_embd.weight") c.n_vocab = (int) t.shape[0];
        if (name == "rope_freqs.weight") {  // a config value, not a weight
            if (t.shape.size() != 1 || t.shape[0] * 2 != c.head_dim())
                return make_error(Errc::invalid_argument, path + ": rope_freqs.weight has " + std::to_string(t.data.size()) +
                                                              " values; head_dim/2 = " + std::to_string(c.head_dim() / 2) +
                                                              " expected");
            c.rope_freq_factors = std::move(t.data);
            continue;
        }
        m.tensors.push_back(std::move(t));
    }
    if (c.n_vocab <= 0) return make_error(Errc::invalid_argument, path + ": no token_embd.weight");
    return m;
}

Status write_gguf_llama(const std::string & path, const GgufLlamaModel & m, GgufType type) {
    const LlamaConfig & c = m.config;
    const Vocab &       v = m.vocab;
    if ((!m.gemma2 && c.n_embd % c.n_head != 0) || c.n_head % c.n_head_kv != 0) {
        return make_error(Errc::invalid_argument, "config: n_embd must divide by n_head and n_head by n_head_kv");
    }
    if (v.pieces.size() != v.scores.size() || v.pieces.size() != v.types.size() || (int) v.pieces.size() != c.n_vocab) {
        return make_error(Errc::invalid_argument, "vocab: pieces/scores/types sizes must all equal n_vocab (" +
                                                      std::to_string(c.n_vocab) + ")");
    }
    // config.rope_freq_factors as the tensor rope_freqs.weight, first (where llama.cpp's converter
    // writes it), then the caller's tensors
    const NamedTensor rope_freqs{"rope_freqs.weight", {(int64_t) c.rope_freq_factors.size()}, c.rope_freq_factors};
    std::vector<const NamedTensor *> tensors;
    if (!c.rope_freq_factors.empty()) tensors.push_back(&rope_freqs);
    for (const auto & t : m.tensors) tensors.push_back(&t);
    size_t bytes = 0;
    for (const auto * t : tensors) {
        if (auto st = check_tensor(*t); !st) return st;
        bytes += t->data.size() * sizeof(float) + ggml_tensor_overhead();
    }
    ggml_init_params ip = { bytes + 1024 * 1024, nullptr, false };
    ggml_context *   ctx = ggml_init(ip);
    gguf_context *   g   = gguf_init_empty();

    const std::string arch = m.gemma2 ? "gemma2" : arch_name(c.arch);
    auto key = [&](const char * k) { return arch + "." + k; };
    const int head_dim = m.gemma2 ? m.gemma2->head_dim : c.head_dim();
    gguf_set_val_str(g, "general.architecture", arch.c_str());
    gguf_set_val_str(g, "general.name", m.name.c_str());
    gguf_set_val_u32(g, "general.file_type", type == GgufType::f16 ? 1 : 0);
    gguf_set_val_u32(g, key("context_length").c_str(), c.n_ctx);
    gguf_set_val_u32(g, key("embedding_length").c_str(), c.n_embd);
    gguf_set_val_u32(g, key("block_count").c_str(), c.n_layer);
    gguf_set_val_u32(g, key("feed_forward_length").c_str(), c.n_ff);
    gguf_set_val_u32(g, key("attention.head_count").c_str(), c.n_head);
    gguf_set_val_u32(g, key("attention.head_count_kv").c_str(), c.n_head_kv);
    gguf_set_val_f32(g, key("attention.layer_norm_rms_epsilon").c_str(), c.rms_eps);
    gguf_set_val_u32(g, key("rope.dimension_count").c_str(), head_dim);
    gguf_set_val_f32(g, key("rope.freq_base").c_str(), c.rope_theta);
    gguf_set_val_u32(g, key("vocab_size").c_str(), c.n_vocab);
    if (m.gemma2) {
        gguf_set_val_u32(g, key("attention.key_length").c_str(), head_dim);
        gguf_set_val_u32(g, key("attention.value_length").c_str(), head_dim);
        gguf_set_val_f32(g, key("attn_logit_softcapping").c_str(), m.gemma2->attn_softcap);
        gguf_set_val_f32(g, key("final_logit_softcapping").c_str(), m.gemma2->final_softcap);
        gguf_set_val_u32(g, key("attention.sliding_window").c_str(), m.gemma2->sliding_window);
    }

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

    for (const auto * tp : tensors) {
        const NamedTensor & t = *tp;
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

}  // namespace grm
