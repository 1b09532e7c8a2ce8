// Engine construction from user options: a GGUF path selects the in-process llama.cpp engine,
// an http(s) URL (or a comma-separated list of them) the OpenAI-compatible client.
#pragma once

#include "core/engine.h"

#include <memory>
#include <string>
#include <vector>

namespace grm {

struct EngineOptions {
    std::string model;  // path to a .gguf, or "http://host:port[,http://host2:port]"; empty = default model

    // llama.cpp in-process
    int  n_ctx       = 0;   // per-sequence context; 0 = the model's training context
    int  n_seq_max   = 64;  // sequences decoded together (samples of all requests in flight)
    int  threads     = 0;   // 0 = all cores
    bool prefix_cache = true;  // share prompt prefixes across requests (in a batch and across calls)
    int  kv_size      = 0;     // KV cells shared by all sequences; 0 = 16 x context

    // OpenAI-compatible servers
    std::string api = "chat";  // "chat" (/v1/chat/completions) or "completions" (/v1/completions)
    std::string api_key;       // sent as a bearer token when set
    std::string served_model;  // the "model" field; empty = let the server choose
    double      timeout_s   = 180.0;
    int         max_retries = 3;   // on 5xx, 429 and connection errors only
    int         max_n       = 0;   // cap on `n` per request; 0 = learn it from the server's refusals
    int         concurrency = 8;   // requests in flight per endpoint
};

Result<std::unique_ptr<Engine>> make_engine(const EngineOptions & options);

// The embedded default GRM shipped in models/ (used when no model is given; GRM_MODEL overrides).
std::string default_model_path();
// The default meta RM shipped beside it (`--meta default`; GRM_META overrides): trained on the
// default's backbone, so its head reads that model's hidden states.
std::string default_meta_path();
// `--meta` as given: "default" names default_meta_path(), anything else is a path.
std::string resolve_meta_path(const std::string & meta);

}  // namespace grm
