// Engine factory: GGUF path -> LlamaEngine, http(s) URL list -> OpenAIEngine.
#include "engines/make_engine.h"

#include "engines/llama_engine.h"
#include "engines/openai_engine.h"

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
        OpenAIEngineParams p;
        for (size_t pos = 0; pos <= model.size();) {
            size_t comma = model.find(',', pos);
            std::string url = model.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            if (!url.empty()) p.endpoints.push_back(url);
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        if (o.api != "chat" && o.api != "completions") {
            return make_error(Errc::invalid_argument, "--api must be 'chat' or 'completions', not '" + o.api + "'");
        }
        p.chat        = o.api == "chat";
        p.api_key     = o.api_key;
        p.model       = o.served_model;
        p.timeout_s   = o.timeout_s;
        p.max_retries = o.max_retries;
        p.max_n       = o.max_n;
        p.concurrency = o.concurrency;
        return std::unique_ptr<Engine>(new OpenAIEngine(std::move(p)));
    }
    auto m = LlamaModel::load(model);
    if (!m) return m.error();
    LlamaEngineParams p;
    p.n_ctx_seq    = o.n_ctx;
    p.n_seq_max    = o.n_seq_max;
    p.threads      = o.threads;
    p.prefix_cache = o.prefix_cache;
    p.kv_size      = o.kv_size;
    auto e         = LlamaEngine::create(*m, p);
    if (!e) return e.error();
    return std::unique_ptr<Engine>(std::move(*e));
}

}  // namespace grm
