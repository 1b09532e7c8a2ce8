// `grm serve`: the reward server (native judging, OpenRLHF /get_reward, OpenAI-compatible
// generation) over one engine chosen at start-up. See docs/server.md.
#include "commands.h"

#include "core/atomic_file.h"
#include "core/prompt.h"
#include "engines/make_engine.h"
#include "scaling/llama_scalar_rm.h"
#include "engine_flags.h"
#include "server/server.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

namespace grm::cli {

namespace {

struct ServeArgs {
    EngineOptions         engine;
    server::ServerOptions server;
    std::string           port_file;
    JudgeFlags            judge_flags;
};

// The id clients see in /v1/models and every response: short and stable, not a description.
std::string default_model_id(const EngineOptions & e) {
    if (e.model.rfind("http://", 0) == 0 || e.model.rfind("https://", 0) == 0) {
        return e.openai.model.empty() ? "grm-upstream" : e.openai.model;
    }
    std::string path = e.model.empty() ? default_model_path() : e.model;
    std::string stem = path.substr(path.find_last_of('/') + 1);
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".gguf") == 0) stem.resize(stem.size() - 5);
    return stem.empty() ? "grm" : stem;
}

int run_serve(ServeArgs & a) {
    server::ServerOptions & so = a.server;
    if (so.model_name.empty()) so.model_name = default_model_id(a.engine);
    if (const char * key = std::getenv("GRM_API_KEY"); key && so.api_key.empty()) so.api_key = key;
    if (auto st = apply_judge_flags(a.judge_flags, so.judge); !st) {
        std::cerr << "grm serve: " << st.error().to_string() << "\n";
        return 2;
    }
    if (so.judge.k > so.limits.max_k) so.limits.max_k = so.judge.k;

    // Signals are taken by one watcher thread (sigwait), so every thread started from here on,
    // the engine's and cpp-httplib's included, must have them blocked.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto engine = make_engine(a.engine);
    if (!engine) {
        std::cerr << "grm serve: " << engine.error().to_string() << "\n";
        return 1;
    }
    auto meta = load_meta_flag(a.judge_flags, a.engine.llama.threads);
    if (!meta) {
        std::cerr << "grm serve: " << meta.error().to_string() << "\n";
        return 2;
    }
    so.meta = meta->get();
    server::Server srv(**engine, so);
    if (auto st = srv.start(); !st) {
        std::cerr << "grm serve: " << st.error().to_string() << "\n";
        return 1;
    }
    if (!a.port_file.empty()) {
        if (auto st = write_text_atomic(a.port_file, std::to_string(srv.port()) + "\n"); !st) {
            std::cerr << "grm serve: " << st.error().to_string() << "\n";
            return 1;
        }
    }
    std::cerr << "grm serve: listening on http://" << so.host << ":" << srv.port() << " (" << so.model_name << ": " << (*engine)->describe()
              << "; queue " << so.queue_capacity << ", batch " << so.max_batch << ", k " << so.judge.k
              << (so.api_key.empty() ? "" : ", bearer token required") << ")" << std::endl;

    std::thread([&srv, signals] {
        int sig = 0;
        sigwait(&signals, &sig);
        std::cerr << "grm serve: signal " << sig << ", finishing in-flight requests (again to quit at once)" << std::endl;
        std::thread([&srv] { srv.stop(); }).detach();
        sigwait(&signals, &sig);
        std::_Exit(130);
    }).detach();

    srv.wait();
    std::cerr << "grm serve: stopped" << std::endl;
    return 0;
}

}  // namespace

void register_serve(CLI::App & app) {
    auto   args = std::make_shared<ServeArgs>();
    auto * cmd  = app.add_subcommand("serve", "HTTP reward server: /v1/judge, /get_reward (OpenRLHF), /v1/chat/completions");
    server::ServerOptions & so = args->server;

    add_engine_flags(*cmd, args->engine);
    cmd->add_option("--host", so.host, "address to bind (loopback by default)")->capture_default_str();
    cmd->add_option("--port", so.port, "port (0 = any free port; see --port-file)")->capture_default_str();
    cmd->add_option("--port-file", args->port_file, "write the bound port to this file once listening");
    cmd->add_option("--api-key", so.api_key, "require 'Authorization: Bearer <key>' (also GRM_API_KEY)");
    cmd->add_option("--served-model-name", so.model_name, "model id in /v1/models and responses (default: the GGUF file's stem)");
    cmd->add_option("--http-threads", so.http_threads, "connections handled at once")->capture_default_str();
    cmd->add_option("--read-timeout", so.read_timeout_s, "seconds for a request's line, headers and body to arrive (408 beyond)")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--queue", so.queue_capacity, "judgments waiting before requests get 429")->capture_default_str();
    cmd->add_option("--max-batch", so.max_batch, "judgments per engine call")->capture_default_str();
    cmd->add_option("--batch-window-ms", so.batch_window_ms, "wait this long for more requests to batch with")->capture_default_str();

    cmd->add_option("-k", so.judge.k, "samples per judgment (voting@k) unless a request sets k")->capture_default_str();
    cmd->add_option("--seed", so.judge.seed, "default seed (sample i of input ID uses streams derived from (seed, ID, i))")->capture_default_str();
    add_sampling_flags(*cmd, so.judge.sampling);
    add_judge_flags(*cmd, args->judge_flags, so.judge);

    cmd->add_option("--max-body", so.limits.max_body_bytes, "request body limit in bytes (413 beyond)")->capture_default_str();
    cmd->add_option("--max-json-depth", so.limits.max_json_depth, "nesting of [ and { in a request body (400 too_deep beyond)")->capture_default_str()->check(CLI::Range(1, 10000));
    cmd->add_option("--max-responses", so.limits.max_responses, "responses per /v1/judge request")->capture_default_str();
    cmd->add_option("--max-queries", so.limits.max_queries, "queries per /get_reward request")->capture_default_str();
    cmd->add_option("--max-k", so.limits.max_k, "largest k a request may ask for")->capture_default_str();
    cmd->add_option("--max-choices", so.limits.max_n, "largest n an OpenAI request may ask for")->capture_default_str();
    cmd->add_option("--max-tokens-limit", so.limits.max_tokens, "largest max_tokens a request may ask for")->capture_default_str();
    cmd->add_option("--request-timeout", so.limits.default_timeout_s, "per-request deadline in seconds unless the request sets 'timeout'")->capture_default_str();
    cmd->add_option("--unscorable-reward", so.unscorable_reward, "reward sent to OpenRLHF for an unscorable judgment (extra_logs.valid = 0)")->capture_default_str();

    cmd->callback([args] { std::exit(run_serve(*args)); });
}

}  // namespace grm::cli
