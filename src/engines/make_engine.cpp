// Engine factory: GGUF path -> LlamaEngine, http(s) URL list -> OpenAIEngine.
#include "engines/make_engine.h"

#include <cstdlib>

namespace grm {

// The best committed judge (models/README.md): GPU-trained, then GRPO. The file keeps its own name
// so that a model's name says how it was made; "default" is only this role.
std::string default_model_path() {
    if (const char * env = std::getenv("GRM_MODEL")) return env;
    return std::string(GRM_SOURCE_DIR) + "/models/grm-gpu-spct.gguf";
}

std::string default_meta_path() {
    if (const char * env = std::getenv("GRM_META")) return env;
    return std::string(GRM_SOURCE_DIR) + "/models/grm-gpu-meta.gguf";
}

std::string resolve_meta_path(const std::string & meta) { return meta == "default" ? default_meta_path() : meta; }

Result<std::unique_ptr<Engine>> make_engine(const EngineOptions & o) {
    std::string model = o.model.empty() ? default_model_path() : o.model;
    if (model.rfind("http://", 0) == 0 || model.rfind("https://", 0) == 0) {
        if (!o.llama.lora.empty())
            return make_error(Errc::invalid_argument, "--lora applies to a GGUF model run by llama.cpp in-process, not to a "
                                                      "server (load the adapter there: llama-server --lora)");
        OpenAIEngineParams p = o.openai;
        p.endpoints.clear();
        for (size_t pos = 0; pos <= model.size();) {
            size_t comma = model.find(',', pos);
            std::string url = model.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            if (!url.empty()) p.endpoints.push_back(url);
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        return std::unique_ptr<Engine>(new OpenAIEngine(std::move(p)));
    }
    auto m = LlamaModel::load(model);
    if (!m) return m.error();
    auto e = LlamaEngine::create(*m, o.llama);
    if (!e) return e.error();
    return std::unique_ptr<Engine>(std::move(*e));
}

}  // namespace grm
