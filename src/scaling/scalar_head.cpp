// Scalar head sidecar: JSON read/write.
#include "scaling/scalar_head.h"

#include "core/atomic_file.h"
#include "core/prompt.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace grm::scaling {

double ScalarHead::apply(const float * h) const {
    double s = bias;
    for (size_t i = 0; i < weight.size(); ++i) s += double(weight[i]) * double(h[i]);
    return s;
}

std::string head_path(const std::string & gguf_path) { return gguf_path + ".head.json"; }

Status save_head(const std::string & path, const ScalarHead & h) {
    nlohmann::json j{{"kind", h.kind}, {"n_embd", h.weight.size()}, {"weight", h.weight}, {"bias", h.bias}};
    if (h.chat) {
        j["chat"]   = true;
        j["prompt"] = h.prompt;
    }
    return write_text_atomic(path, j.dump() + "\n");
}

Result<ScalarHead> load_head(const std::string & path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "no scalar head file " + path);
    ScalarHead h;
    try {
        nlohmann::json j;
        in >> j;
        h.kind   = j.value("kind", std::string("meta"));
        h.weight = j.at("weight").get<std::vector<float>>();
        h.bias   = j.at("bias").get<float>();
        if (j.at("n_embd").get<size_t>() != h.weight.size())
            return make_error(Errc::invalid_argument, path + ": n_embd does not match the weight's length");
        h.chat = j.value("chat", false);
        if (h.chat) {
            h.prompt = j.at("prompt").get<std::string>();
            if (auto t = parse_template(h.prompt, path + " (prompt)"); !t) return t.error();
        }
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, path + ": " + e.what());
    }
    return h;
}

}  // namespace grm::scaling
