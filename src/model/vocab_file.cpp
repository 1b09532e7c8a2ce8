// Vocab loading from GGUF (ggml's gguf API) or JSON.
#include "model/vocab_file.h"

#include "gguf.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>

namespace grm::model {

namespace {

bool ends_with(const std::string & s, const std::string & suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<Vocab> load_gguf_vocab(const std::string & path) {
    gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
    std::unique_ptr<gguf_context, void (*)(gguf_context *)> g(gguf_init_from_file(path.c_str(), params), gguf_free);
    if (!g) return make_error(Errc::invalid_argument, "not a readable GGUF file: " + path);
    const int64_t k_tok = gguf_find_key(g.get(), "tokenizer.ggml.tokens");
    const int64_t k_sc  = gguf_find_key(g.get(), "tokenizer.ggml.scores");
    const int64_t k_ty  = gguf_find_key(g.get(), "tokenizer.ggml.token_type");
    if (k_tok < 0 || k_sc < 0 || k_ty < 0)
        return make_error(Errc::invalid_argument, path + ": no tokenizer.ggml tokens/scores/token_type");
    const size_t n = gguf_get_arr_n(g.get(), k_tok);
    if (gguf_get_arr_n(g.get(), k_sc) != n || gguf_get_arr_n(g.get(), k_ty) != n ||
        gguf_get_arr_type(g.get(), k_sc) != GGUF_TYPE_FLOAT32 || gguf_get_arr_type(g.get(), k_ty) != GGUF_TYPE_INT32)
        return make_error(Errc::invalid_argument, path + ": tokenizer arrays disagree in size or type");
    Vocab v;
    v.pieces.reserve(n);
    for (size_t i = 0; i < n; ++i) v.pieces.emplace_back(gguf_get_arr_str(g.get(), k_tok, i));
    const auto * sc = static_cast<const float *>(gguf_get_arr_data(g.get(), k_sc));
    const auto * ty = static_cast<const int32_t *>(gguf_get_arr_data(g.get(), k_ty));
    v.scores.assign(sc, sc + n);
    v.types.assign(ty, ty + n);
    auto get_id = [&](const char * key, int & out) {
        const int64_t k = gguf_find_key(g.get(), key);
        if (k >= 0) out = int(gguf_get_val_u32(g.get(), k));
    };
    get_id("tokenizer.ggml.bos_token_id", v.bos_id);
    get_id("tokenizer.ggml.eos_token_id", v.eos_id);
    get_id("tokenizer.ggml.unknown_token_id", v.unk_id);
    get_id("tokenizer.ggml.padding_token_id", v.pad_id);
    const int64_t k_bos = gguf_find_key(g.get(), "tokenizer.ggml.add_bos_token");
    if (k_bos >= 0) v.add_bos = gguf_get_val_bool(g.get(), k_bos);
    const int64_t k_space = gguf_find_key(g.get(), "tokenizer.ggml.add_space_prefix");
    if (k_space >= 0) v.add_space_prefix = gguf_get_val_bool(g.get(), k_space);
    return v;
}

Result<Vocab> load_json_vocab(const std::string & path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open " + path);
    Vocab v;
    try {
        nlohmann::json j;
        in >> j;
        v.pieces  = j.at("pieces").get<std::vector<std::string>>();
        v.scores  = j.at("scores").get<std::vector<float>>();
        v.types   = j.at("types").get<std::vector<int32_t>>();
        v.bos_id  = j.value("bos_id", v.bos_id);
        v.eos_id  = j.value("eos_id", v.eos_id);
        v.unk_id  = j.value("unk_id", v.unk_id);
        v.pad_id  = j.value("pad_id", v.pad_id);
        v.add_bos = j.value("add_bos", v.add_bos);
        v.add_space_prefix = j.value("add_space_prefix", v.add_space_prefix);
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, path + ": " + e.what());
    }
    if (v.scores.size() != v.pieces.size() || v.types.size() != v.pieces.size())
        return make_error(Errc::invalid_argument, path + ": pieces, scores and types differ in length");
    return v;
}

}  // namespace

Result<Vocab> load_vocab(const std::string & path) {
    if (ends_with(path, ".json")) return load_json_vocab(path);
    return load_gguf_vocab(path);
}

Status save_vocab_json(const std::string & path, const Vocab & v) {
    nlohmann::json j{{"pieces", v.pieces}, {"scores", v.scores}, {"types", v.types}, {"bos_id", v.bos_id},
                     {"eos_id", v.eos_id}, {"unk_id", v.unk_id}, {"pad_id", v.pad_id}, {"add_bos", v.add_bos},
                     {"add_space_prefix", v.add_space_prefix}};
    std::ofstream out(path);
    if (!out) return make_error(Errc::io, "cannot write " + path);
    out << j.dump() << "\n";
    return out ? ok_status() : Status(make_error(Errc::io, "write failed: " + path));
}

}  // namespace grm::model
