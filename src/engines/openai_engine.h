// Client engine for OpenAI-compatible servers (vLLM, SGLang, llama-server, TGI):
// /v1/chat/completions or /v1/completions, `n` with fallback, retries, several endpoints.
#pragma once

#include "core/engine.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace grm {

struct OpenAIEngineParams {
    std::vector<std::string> endpoints;  // base URLs, e.g. "http://127.0.0.1:8080" (a trailing /v1 is fine)
    bool        chat = true;  // false: /v1/completions with the raw prompt (the engine ignores req.chat)
    std::string api_key;
    std::string model;        // "model" field; empty = omitted
    double      timeout_s   = 180.0;
    int         max_retries = 3;
    int         max_n       = 0;  // 0 = start at 64 and halve on the server's 4xx refusals
    int         concurrency = 8;  // requests in flight per endpoint
    double      backoff_s   = 0.5;  // first retry delay, doubled per retry (Retry-After wins)
};

class OpenAIEngine : public Engine {
  public:
    explicit OpenAIEngine(OpenAIEngineParams params);

    std::string                   describe() const override;
    std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & requests) override;

    int  learned_max_n() const { return max_n_.load(); }
    long http_requests() const { return http_requests_.load(); }

  private:
    struct Unit;
    struct Reply;
    Reply post_with_retries(const std::string & endpoint, const Unit & unit, const GenerationRequest & req);
    void  run_unit(const std::string & endpoint, Unit & unit, const GenerationRequest & req);

    OpenAIEngineParams params_;
    std::atomic<int>   max_n_;
    std::atomic<long>  http_requests_{ 0 };
};

}  // namespace grm
