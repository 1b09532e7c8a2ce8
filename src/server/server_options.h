// Everything `grm serve` is configured with at start-up: listening, limits, batching and the
// judging defaults a request may override. Models are fixed here, never chosen by a request.
#pragma once

#include "core/judge.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace grm::server {

struct Limits {
    size_t max_body_bytes    = 8u << 20;  // larger bodies get 413
    int    max_json_depth    = 64;        // nesting of [ and { in a body; deeper gets 400 too_deep
    int    max_responses     = 64;        // responses per native judge request
    int    max_queries       = 1024;      // queries per /get_reward request
    int    max_k             = 64;        // samples per judgment a request may ask for
    int    max_n             = 16;        // choices per OpenAI request
    int    max_tokens        = 4096;      // generation budget a request may ask for
    double default_timeout_s = 600.0;     // per-request deadline unless the request sets `timeout`
    double max_timeout_s     = 3600.0;
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    int         port = 8080;  // 0 = any free port (see Server::port())
    std::string api_key;      // when set, every endpoint but /health needs "Authorization: Bearer <key>"
    int         http_threads = 256;  // connections handled at once (64 dropped connections under 64 clients on httplib 0.11)
    double      read_timeout_s = 10.0;  // a request's line, headers and body must arrive within this (408)

    size_t queue_capacity  = 256;  // judgments + generation requests waiting; beyond it, 429
    int    max_batch       = 16;   // judgments (or generation requests) per engine call
    double batch_window_ms = 2.0;  // after the first task arrives, wait this long for company

    // Reward reported to OpenRLHF for an unscorable judgment (the JSON has no NaN); `extra_logs.valid`
    // is 0 for it, so a client can mask it.
    double unscorable_reward = 0.0;

    JudgeParams judge;  // defaults: k, seed, sampling, template, shuffle; requests may override k,
                        // k_meta, seed, temperature, top_p, max_tokens
    // Meta RM for meta-guided voting (grm serve --meta); not owned; used by the inference loop's
    // thread only. With one, every judgment is meta-scored and the top k_meta voted (0: k/2).
    MetaScorer * meta = nullptr;
    Limits      limits;
    std::string model_name;  // the model id in responses, /health and /v1/models (default "grm")
};

}  // namespace grm::server
