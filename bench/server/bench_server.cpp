// Benchmark of `grm serve` (not a test): judgments/s and p50/p99 latency at several concurrencies
// with k = 8, through HTTP and in-process (same queue, loop and engine) in alternating rounds of one
// run, and a GRPO-shaped workload (8 response sets per prompt) with cross-request prefix reuse on
// and off.
#include "../bench_common.h"
#include "engines/make_engine.h"
#include "common/random_model.h"
#include "gguf/gguf_llama.h"
#include "server/server.h"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace grm;
using json  = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Row {
    double jps = 0, p50 = 0, p99 = 0;
};


double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t i = std::min(v.size() - 1, (size_t) std::ceil(q * v.size()) - 1);
    return v[i];
}

// Latencies (ms) of a set of requests and the wall time (s) they took together.
struct Run {
    std::vector<double> lat;
    double              wall = 0;

    void add(const Run & r) {
        lat.insert(lat.end(), r.lat.begin(), r.lat.end());
        wall += r.wall;
    }
    Row row() const { return Row{ lat.size() / wall, percentile(lat, 0.5), percentile(lat, 0.99) }; }
};

// `n_requests` requests, taken in order by `concurrency` client threads; one(i) runs request i.
template <class Fn>
Run run_clients(int concurrency, int n_requests, Fn && one) {
    Run              r;
    std::atomic<int> next{ 0 };
    r.lat.assign(n_requests, 0);
    auto                     t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int c = 0; c < concurrency; c++) {
        ts.emplace_back([&] {
            for (int i; (i = next++) < n_requests;) {
                auto a = Clock::now();
                one(i);
                r.lat[i] = std::chrono::duration<double, std::milli>(Clock::now() - a).count();
            }
        });
    }
    for (auto & t : ts) t.join();
    r.wall = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
}

std::string words(int n, int seed) {
    static const char * w[] = { "alpha", "river", "stone", "market", "quiet", "signal", "orange", "vector", "mountain", "paper" };
    std::string         s;
    for (int i = 0; i < n; i++) s += std::string(w[(i * 7 + seed * 13 + i / 3) % 10]) + " ";
    return s;
}

Sample make_sample(int prompt, int set, int query_words) {
    Sample s;
    s.conversation = { { "user", "Task " + std::to_string(prompt) + ": " + words(query_words, prompt) } };
    s.responses    = { "Answer " + std::to_string(set) + ": " + words(12, set + 100 * prompt) };
    return s;
}

json sample_json(const Sample & s, const JudgeParams & o) {
    return { { "query", s.query() }, { "responses", s.responses }, { "k", o.k }, { "seed", o.seed }, { "max_tokens", o.sampling.max_tokens } };
}

}  // namespace

int main(int argc, char ** argv) {
    CLI::App    app{ "bench_server: grm serve throughput, latency, HTTP overhead and prefix reuse" };
    std::string model;
    int         threads = 2, k = 8, max_tokens = 16, requests = 16, rounds = 4, grpo_prompts = 4, query_words = 150,
                n_embd = 256, n_layer = 4;
    std::vector<int> concurrencies = { 1, 8, 32 };
    app.add_option("-m,--model", model, "GGUF to serve (default: the embedded model, else a random model of --n-embd/--n-layer)");
    bool random_model = false;
    app.add_flag("--random", random_model, "serve a random model of --n-embd/--n-layer (written to the temp dir), not the default");
    app.add_option("--threads", threads)->capture_default_str();
    app.add_option("-k", k)->capture_default_str();
    app.add_option("--max-tokens", max_tokens)->capture_default_str();
    app.add_option("--requests", requests, "judgments per concurrency level and round (at least the concurrency)")->capture_default_str();
    app.add_option("--rounds", rounds, "alternating rounds of in-process and HTTP requests per concurrency level")->capture_default_str()->check(CLI::Range(1, 1000));
    app.add_option("--concurrency", concurrencies, "concurrent requests, one row group each")->delimiter(',')->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--grpo-prompts", grpo_prompts, "prompts in the GRPO workload (8 response sets each)")->capture_default_str();
    app.add_option("--query-words", query_words, "words per GRPO prompt (the shared prefix)")->capture_default_str();
    app.add_option("--n-embd", n_embd)->capture_default_str();
    app.add_option("--n-layer", n_layer)->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    if (!random_model && model.empty() && std::filesystem::exists(default_model_path())) model = default_model_path();
    if (model.empty()) {
        LlamaConfig c;
        c.n_ctx     = 4096;
        c.n_embd    = n_embd;
        c.n_layer   = n_layer;
        c.n_head    = std::max(1, n_embd / 64);
        c.n_head_kv = c.n_head;
        c.n_ff      = n_embd * 11 / 4;
        model       = (std::filesystem::temp_directory_path() / ("grm-bench-random-" + std::to_string(n_embd) + "x" + std::to_string(n_layer) + ".gguf")).string();
        if (auto st = write_gguf_llama(model, random_llama_model(c, 1)); !st) {
            std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
            return 1;
        }
    }

    auto serve = [&](bool prefix_cache) {
        EngineOptions eo;
        eo.model        = model;
        eo.llama.threads      = threads;
        eo.llama.n_ctx_seq    = 2048;
        eo.llama.prefix_cache = prefix_cache;
        return make_engine(eo);
    };
    auto engine = serve(true);
    if (!engine) {
        std::fprintf(stderr, "%s\n", engine.error().to_string().c_str());
        return 1;
    }
    server::ServerOptions so;
    so.port                      = 0;
    so.http_threads              = 64;
    so.max_batch                 = 16;
    so.judge.k                   = k;
    so.judge.sampling.max_tokens = max_tokens;
    so.judge.sampling.temperature = 1.0f;
    server::Server srv(**engine, so);
    if (auto st = srv.start(); !st) {
        std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
        return 1;
    }

    std::printf("# bench_server  commit %s  model %s\n", bench::git_commit().c_str(), (*engine)->describe().c_str());
    std::printf("# threads %d  k %d  max_tokens %d  temperature 1.0  max_batch %d  cores %u\n", threads, k, max_tokens,
                so.max_batch, std::thread::hardware_concurrency());

    const JudgeParams opts = srv.default_params();
    auto in_process = [&](server::Server & s, const Sample & smp) {
        auto f = s.submit_judge(smp, opts, std::make_shared<server::TaskControl>());
        while (!f) {  // queue full: back off like an HTTP client would on 429
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            f = s.submit_judge(smp, opts, std::make_shared<server::TaskControl>());
        }
        f->get();
    };
    auto over_http = [&](int port, const Sample & smp) {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(std::chrono::seconds(600));
        c.set_tcp_nodelay(true);  // as RL clients (python requests/aiohttp) do
        std::string body = sample_json(smp, opts).dump();
        for (;;) {
            auto r = c.Post("/v1/judge", body, "application/json");
            if (r && r->status == 200) return;
            if (r && r->status != 429) {
                std::fprintf(stderr, "HTTP %d: %s\n", r->status, r->body.c_str());
                std::exit(1);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    };

    // Distinct queries per request so that only the template's instruction is shared.
    std::printf("\n%-12s %6s %10s %10s %10s   %10s %10s %10s   %s\n", "workload", "conc", "http j/s", "p50 ms", "p99 ms",
                "inproc j/s", "p50 ms", "p99 ms", "http/inproc time");
    int base = 0;
    for (int c : concurrencies) {
        int n = std::max(requests, c);
        // warm-up so that neither side pays for first-touch allocations
        in_process(srv, make_sample(900000 + c, 0, 40));
        // rounds in the order AB BA AB ...: a machine whose speed drifts during the row moves both sides
        Run ipr, htr;
        for (int r = 0; r < rounds; r++) {
            for (int side = 0; side < 2; side++) {
                if ((side == 0) == (r % 2 == 0)) ipr.add(run_clients(c, n, [&](int i) { in_process(srv, make_sample(base + i, 0, 40)); }));
                else htr.add(run_clients(c, n, [&](int i) { over_http(srv.port(), make_sample(base + i, 0, 40)); }));
                base += n;
            }
        }
        const Row ip = ipr.row(), ht = htr.row();
        std::printf("%-12s %6d %10.2f %10.1f %10.1f   %10.2f %10.1f %10.1f   %.3f\n", "judge k=8", c, ht.jps, ht.p50, ht.p99,
                    ip.jps, ip.p50, ip.p99, ip.jps / ht.jps);
        std::fflush(stdout);
    }

    // GRPO: each prompt gets 8 response sets, sent as 8 requests (OpenRLHF sends one sample per
    // request). Same server code, an engine with prefix reuse off for the baseline.
    auto grpo = [&](server::Server & s, int conc) {
        int n = grpo_prompts * 8;
        return run_clients(conc, n, [&](int i) { over_http(s.port(), make_sample(5000 + i / 8, i % 8, query_words)); }).row();
    };
    Row on1 = grpo(srv, 1), on8 = grpo(srv, 8);
    srv.stop();
    auto off_engine = serve(false);
    if (!off_engine) {
        std::fprintf(stderr, "%s\n", off_engine.error().to_string().c_str());
        return 1;
    }
    server::Server off(**off_engine, so);
    if (auto st = off.start(); !st) return 1;
    Row off1 = grpo(off, 1), off8 = grpo(off, 8);
    off.stop();
    std::printf("\n%-28s %6s %12s %12s %10s\n", "GRPO (8 sets/prompt)", "conc", "reuse j/s", "no-reuse j/s", "speed-up");
    std::printf("%-28s %6d %12.2f %12.2f %9.2fx\n", ("query " + std::to_string(query_words) + " words").c_str(), 1, on1.jps, off1.jps, on1.jps / off1.jps);
    std::printf("%-28s %6d %12.2f %12.2f %9.2fx\n", ("query " + std::to_string(query_words) + " words").c_str(), 8, on8.jps, off8.jps, on8.jps / off8.jps);
    return 0;
}
