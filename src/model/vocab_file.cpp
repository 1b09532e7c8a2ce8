// Vocab loading from GGUF (grm::read_gguf_vocab) or JSON.
#include "model/vocab_file.h"
#include "core/atomic_file.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace grm::model {

namespace {

bool ends_with(const std::string & s, const std::string & suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
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
    return read_gguf_vocab(path);
}

Status save_vocab_json(const std::string & path, const Vocab & v) {
    nlohmann::json j{{"pieces", v.pieces}, {"scores", v.scores}, {"types", v.types}, {"bos_id", v.bos_id},
                     {"eos_id", v.eos_id}, {"unk_id", v.unk_id}, {"pad_id", v.pad_id}, {"add_bos", v.add_bos},
                     {"add_space_prefix", v.add_space_prefix}};
    return write_text_atomic(path, j.dump() + "\n");
}

}  // namespace grm::model
