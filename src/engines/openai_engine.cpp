// OpenAI-compatible HTTP client engine.
#include "engines/openai_engine.h"

#include "llama/llama_model.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

namespace grm {

using json = nlohmann::json;

// A unit of work: `count` consecutive samples of one request that share a prompt, sent as one
// HTTP request with n = count.
struct OpenAIEngine::Unit {
    size_t                  req   = 0;
    int                     first = 0;  // index of the first sample
    int                     count = 1;
    std::vector<Generation> out;        // filled by run_unit (count entries) unless failed
    std::optional<Error>    failed;     // request-level failure
};

struct OpenAIEngine::Reply {
    int         status = 0;  // HTTP status; 0 = no response (connection error / timeout)
    std::string body;
    std::string error;  // transport error text when status == 0
};

namespace {

std::string trim_base(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/v1") == 0) url.resize(url.size() - 3);
    return url;
}

std::string server_message(const std::string & body) {
    json j = json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error")) {
        const json & e = j["error"];
        if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
        if (e.is_string()) return e.get<std::string>();
    }
    return body.substr(0, 300);
}

}  // namespace

OpenAIEngine::OpenAIEngine(OpenAIEngineParams params) : params_(std::move(params)), max_n_(params_.max_n > 0 ? params_.max_n : 64) {
    for (auto & e : params_.endpoints) e = trim_base(e);
    params_.concurrency = std::max(1, params_.concurrency);
}

std::string OpenAIEngine::describe() const {
    std::string s = std::string("openai-compatible ") + (params_.chat ? "/v1/chat/completions" : "/v1/completions") + " at ";
    for (size_t i = 0; i < params_.endpoints.size(); i++) s += (i ? "," : "") + params_.endpoints[i];
    if (!params_.model.empty()) s += " model " + params_.model;
    return s;
}

OpenAIEngine::Reply OpenAIEngine::post_with_retries(const std::string & endpoint, const Unit & u, const GenerationRequest & req) {
    const SamplingParams & sp = req.sampling;
    json                   body;
    if (!params_.model.empty()) body["model"] = params_.model;
    const std::string & prompt = req.prompts[u.first];
    if (params_.chat) {
        body["messages"] = json::array();
        for (const auto & m : req.history) body["messages"].push_back({ { "role", m.role }, { "content", m.content } });
        body["messages"].push_back({ { "role", "user" }, { "content", prompt } });
        body["max_completion_tokens"] = sp.max_tokens;
    }
    else body["prompt"] = prompt;
    body["max_tokens"]  = sp.max_tokens;
    body["n"]           = u.count;
    body["temperature"] = sp.temperature;
    body["top_p"]       = sp.top_p;
    if (sp.top_k > 0) body["top_k"] = sp.top_k;
    // The server derives the unit's n choices from it. 31 bits: servers parse seeds as int32, uint32
    // (llama-server, where 0xFFFFFFFF means random) or int64 (vLLM rejects larger values).
    const uint64_t seed = sample_seed(req, u.first);
    body["seed"]        = (seed ^ (seed >> 32)) & 0x7fffffffull;
    if (!sp.stop.empty()) body["stop"] = sp.stop;
    if (sp.ignore_eos) body["ignore_eos"] = true;  // vLLM and llama-server extension
    const std::string path    = params_.chat ? "/v1/chat/completions" : "/v1/completions";
    const std::string payload = body.dump(-1, ' ', false, json::error_handler_t::replace);

    httplib::Client cli(endpoint);
    const auto      to = std::chrono::duration<double>(params_.timeout_s);
    cli.set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(std::min(to, std::chrono::duration<double>(10.0))));
    cli.set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(to));
    cli.set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(to));
    cli.set_tcp_nodelay(true);
    if (!params_.api_key.empty()) cli.set_bearer_token_auth(params_.api_key);

    Reply  reply;
    double delay = params_.backoff_s;
    for (int attempt = 0;; attempt++) {
        http_requests_++;
        auto res = cli.Post(path, payload, "application/json");
        reply    = Reply{};
        double retry_after = -1;
        if (!res) {
            reply.error = httplib::to_string(res.error());
        } else {
            reply.status = res->status;
            reply.body   = res->body;
            if (res->has_header("Retry-After")) retry_after = std::atof(res->get_header_value("Retry-After").c_str());
        }
        const bool retriable = reply.status == 0 || reply.status == 429 || reply.status >= 500;
        if (!retriable || attempt >= params_.max_retries) return reply;
        std::this_thread::sleep_for(std::chrono::duration<double>(retry_after >= 0 ? std::min(retry_after, 30.0) : delay));
        delay = std::min(delay * 2, 8.0);
    }
}

void OpenAIEngine::run_unit(const std::string & endpoint, Unit & u, const GenerationRequest & req) {
    if (is_cancelled(req.cancel)) {  // checked before every call (an HTTP call in flight runs out)
        u.failed = make_error(Errc::cancelled, "request cancelled");
        return;
    }
    Reply r = post_with_retries(endpoint, u, req);
    auto split = [&]() {  // retry the unit as single-sample requests
        for (int i = 0; i < u.count; i++) {
            Unit one{ u.req, u.first + i, 1, {}, std::nullopt };
            run_unit(endpoint, one, req);
            if (one.failed) {
                u.failed = one.failed;
                return;
            }
            u.out.push_back(std::move(one.out[0]));
        }
    };
    if (r.status == 200) {
        json j = json::parse(r.body, nullptr, false);
        if (j.is_discarded() || !j.contains("choices") || !j["choices"].is_array()) {
            u.failed = make_error(Errc::internal, endpoint + ": malformed response (no 'choices')");
            return;
        }
        std::vector<Generation> gens(u.count);
        int                     got = 0;
        for (const json & c : j["choices"]) {
            int idx = c.value("index", got);
            if (idx < 0 || idx >= u.count) continue;
            Generation & g = gens[idx];
            if (c.contains("message") && c["message"].is_object() && c["message"].contains("content") && c["message"]["content"].is_string()) {
                g.text = c["message"]["content"].get<std::string>();
            } else if (c.contains("text") && c["text"].is_string()) {
                g.text = c["text"].get<std::string>();
            }
            g.text   = sanitize_utf8(g.text);
            g.finish = c.value("finish_reason", std::string("stop")) == "length" ? FinishReason::length : FinishReason::stop;
            got++;
        }
        if (got != u.count) {
            u.failed = make_error(Errc::internal, endpoint + ": asked for " + std::to_string(u.count) + " choices, got " + std::to_string(got));
            return;
        }
        if (j.contains("usage") && j["usage"].is_object()) {
            int pt = j["usage"].value("prompt_tokens", 0), ct = j["usage"].value("completion_tokens", 0);
            for (auto & g : gens) {
                g.prompt_tokens     = pt;
                g.completion_tokens = ct / u.count;
            }
        }
        u.out = std::move(gens);
        return;
    }
    if (u.count > 1 && r.status >= 400 && r.status < 500 && r.status != 429) {
        // the server refuses this n (llama-server: more than its slots; old builds: any n != 1)
        int cap = std::max(1, u.count / 2);
        int cur = max_n_.load();
        while (cap < cur && !max_n_.compare_exchange_weak(cur, cap)) {}
        for (int first = u.first, left = u.count; left > 0;) {
            Unit part{ u.req, first, std::min(left, max_n_.load()), {}, std::nullopt };
            run_unit(endpoint, part, req);
            if (part.failed) {
                u.failed = part.failed;
                return;
            }
            for (auto & g : part.out) u.out.push_back(std::move(g));
            first += part.count;
            left -= part.count;
        }
        return;
    }
    if (r.status >= 500 && u.count > 1) {
        split();  // one bad sample should fail alone
        return;
    }
    if (r.status >= 500) {
        Generation g;
        g.finish = FinishReason::error;
        g.error  = "HTTP " + std::to_string(r.status) + ": " + server_message(r.body);
        u.out    = { g };
        return;
    }
    if (r.status == 0) {
        bool timeout = r.error.find("Read") != std::string::npos || r.error.find("imeout") != std::string::npos;
        u.failed     = make_error(timeout ? Errc::timeout : Errc::unavailable,
                                  endpoint + ": " + r.error + " (after " + std::to_string(params_.max_retries + 1) + " tries)");
        return;
    }
    std::string msg  = server_message(r.body);
    bool        ctx  = msg.find("context") != std::string::npos || msg.find("exceed") != std::string::npos;
    Errc        code = r.status == 429 ? Errc::unavailable : ctx ? Errc::context_overflow : Errc::invalid_argument;
    u.failed         = make_error(code, endpoint + ": HTTP " + std::to_string(r.status) + ": " + msg);
}

std::vector<GenerationResult> OpenAIEngine::generate(const std::vector<GenerationRequest> & requests) {
    std::vector<Unit> units;
    auto bad_seeds = [&](size_t r) { return !requests[r].seeds.empty() && requests[r].seeds.size() != requests[r].prompts.size(); };
    for (size_t r = 0; r < requests.size(); r++) {
        const auto & ps = requests[r].prompts;
        if (bad_seeds(r)) continue;
        for (int i = 0; i < (int) ps.size();) {
            int j = i + 1;
            while (j < (int) ps.size() && ps[j] == ps[i] && j - i < max_n_.load()) j++;
            units.push_back(Unit{ r, i, j - i, {}, std::nullopt });
            i = j;
        }
    }
    std::vector<GenerationResult> results;
    if (params_.endpoints.empty()) {
        for (size_t r = 0; r < requests.size(); r++) results.emplace_back(make_error(Errc::invalid_argument, "no endpoints configured"));
        return results;
    }
    // workers bound to endpoints pull units from one queue, so faster servers take more work
    std::atomic<size_t>      next{ 0 };
    const size_t             n_workers = std::min(units.size(), params_.endpoints.size() * (size_t) params_.concurrency);
    std::vector<std::thread> workers;
    for (size_t w = 0; w < n_workers; w++) {
        workers.emplace_back([&, w] {
            const std::string & ep = params_.endpoints[w % params_.endpoints.size()];
            for (size_t i; (i = next++) < units.size();) run_unit(ep, units[i], requests[units[i].req]);
        });
    }
    for (auto & t : workers) t.join();

    std::vector<std::optional<Error>>    failed(requests.size());
    std::vector<std::vector<Generation>> outs(requests.size());
    for (size_t r = 0; r < requests.size(); r++) {
        if (bad_seeds(r)) {
            failed[r] = make_error(Errc::invalid_argument, "request has " + std::to_string(requests[r].seeds.size()) + " seeds for " +
                                                               std::to_string(requests[r].prompts.size()) + " prompts");
        }
    }
    for (auto & u : units) {
        if (u.failed && !failed[u.req]) failed[u.req] = u.failed;
        for (auto & g : u.out) outs[u.req].push_back(std::move(g));
    }
    for (size_t r = 0; r < requests.size(); r++) {
        if (failed[r]) results.emplace_back(*failed[r]);
        else results.emplace_back(std::move(outs[r]));
    }
    return results;
}

}  // namespace grm
