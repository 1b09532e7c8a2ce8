// Judgments per second for k samples of one ~1,000-token prompt, three ways in one run:
// the in-process shared-prefix batch, k independent generations, and llama-server with n = k.
// Not a test: prints self-describing rows and ratios against the baselines measured here.
#include "../bench_common.h"
#include "../bench_model.h"
#include "matmul_limit.h"
#include "core/prompt.h"
#include "core/sample.h"
#include "engines/llama_engine.h"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace grm;
using namespace grm::bench;

namespace {

struct Args {
    int              threads = 2, reps = 3, prompt_tokens = 1000, gen = 100;
    std::vector<int> ks      = { 1, 4, 8, 16 };
    std::string      model;  // empty: write a random 20.4 M-parameter model
    std::string      sample; // JSONL: judge its first sample (default template, chat-wrapped), not the filler prompt
    bool             server  = true, independent = true, f32_kv = false, flash = false, no_exact = false;
    int              draft_max = LlamaEngineParams{}.draft_max;
    float            temp      = 0.5f;
};

std::string fmt(const char * f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char * f, ...) {
    char    buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

long peak_rss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string   line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    }
    return 0;
}


}  // namespace

int main(int argc, char ** argv) {
    Args     a;
    CLI::App app{ "bench_judge: one judgment of k samples as a shared-prefix batch, as k independent generations, and by llama-server (n = k)" };
    app.add_option("--threads", a.threads)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--reps", a.reps)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--ks", a.ks, "samples per judgment, one row group each")->delimiter(',')->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--prompt-tokens", a.prompt_tokens, "length of the filler prompt")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--gen", a.gen, "tokens generated per sample (end of text ignored)")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--temp", a.temp)->capture_default_str()->check(CLI::Range(0.0, 100.0));
    app.add_option("--model", a.model, "GGUF (default: a random 20.4 M-parameter model written to a temp dir)");
    app.add_option("--sample", a.sample, "JSONL: judge its first sample (default template, chat-wrapped), not the filler prompt");
    app.add_option("--draft-max", a.draft_max, "speculative decoding from the prompt (0 = off)")->capture_default_str()->check(CLI::Range(0, 64));
    app.add_flag("--f32-kv", a.f32_kv, "F32 KV cache");
    app.add_flag("--flash-attn", a.flash, "llama.cpp's flash attention");
    app.add_flag("--no-exact-attention", a.no_exact, "decode attention (over every occupied cell) and matmuls by llama.cpp's kernels, not grm's");
    bool no_server = false, no_independent = false;
    app.add_flag("--no-server", no_server, "skip the llama-server rows");
    app.add_flag("--no-independent", no_independent, "skip the k independent generations");
    CLI11_PARSE(app, argc, argv);
    a.server      = !no_server;
    a.independent = !no_independent;
    int kmax = 0;
    for (int k : a.ks) kmax = std::max(kmax, k);
    const int n_ctx = a.prompt_tokens + a.gen + 64;
    char      dir[] = "/tmp/grm-bench-XXXXXX";
    mkdtemp(dir);
    if (a.model.empty() && (a.model = write_bench_model(dir)).empty()) return 1;
    auto model = LlamaModel::load(a.model);
    if (!model) {
        std::fprintf(stderr, "%s\n", model.error().to_string().c_str());
        return 1;
    }
    // a judging-shaped prompt of the requested length (the fixture vocab is about a token per character),
    // or a real judge prompt: the sample's responses in their given order, in the model's chat template
    std::string prompt = "You are a careful judge. Score each response from 1 to 10.\n[Query]\n";
    if (a.sample.empty()) {
        while ((int) (*model)->tokenize(prompt, true).size() < a.prompt_tokens) prompt += "The quick brown fox jumps over the lazy dog 0123456789. ";
    } else {
        auto file = read_samples_jsonl(a.sample);
        if (!file || file->samples.empty()) {
            std::fprintf(stderr, "%s: %s\n", a.sample.c_str(), file ? "no samples" : file.error().to_string().c_str());
            return 1;
        }
        const Sample &   s = file->samples[0];
        std::vector<int> order(s.n());
        for (int i = 0; i < s.n(); i++) order[i] = i;
        auto chat = (*model)->apply_chat_template(render_prompt(default_template(), s, order));
        if (!chat) {
            std::fprintf(stderr, "%s\n", chat.error().to_string().c_str());
            return 1;
        }
        prompt = *chat;
    }
    const int prompt_len = (int) (*model)->tokenize(prompt, true).size();

    std::printf("# bench_judge: model %s\n", (*model)->describe().c_str());
    std::printf("# prompt %d tokens%s, %d generated tokens per sample, temperature %.2f, draft-max %d, exact attention %s, threads %d, reps %d, commit %s\n",
                prompt_len, a.sample.empty() ? " (filler)" : (" (judge prompt of " + a.sample + ")").c_str(), a.gen, a.temp, a.draft_max,
                a.no_exact ? "off" : "on", a.threads, a.reps, bench::git_commit().c_str());
    std::printf("| method | k | s/judgment (mean +- sd) | judgments/s | vs independent | x of the limit | decode steps | drafts kept | KV cells held | KV state MiB | peak RSS MiB |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::vector<std::string> notes;  // printed after the table

    auto request = [&](int k) {
        GenerationRequest r;
        r.prompts.assign(k, prompt);
        r.chat                 = false;
        r.sampling.temperature = a.temp;
        r.sampling.max_tokens  = a.gen;
        r.sampling.ignore_eos  = true;
        r.sampling.seed        = 1;
        return r;
    };
    LlamaEngineParams p;
    p.threads      = a.threads;
    p.n_ctx_seq    = n_ctx;
    p.kv_size      = prompt_len + kmax * (a.gen + 8) + 256;  // enough only if the prompt is held once
    p.prefix_cache = false;
    p.measure_kv   = true;
    p.f32_kv       = a.f32_kv;
    p.flash_attn   = a.flash;
    p.exact_attention = !a.no_exact;
    p.draft_max    = a.draft_max;

    pid_t server_pid = 0;
    int   port       = 0;
    if (a.server) {
        port       = 18000 + getpid() % 1000;
        server_pid = bench::start_llama_server(a.model, port, a.threads, kmax, kmax * n_ctx);
        if (server_pid < 0) {
            std::fprintf(stderr, "llama-server did not start; rerun with --no-server\n");
            return 1;
        }
    }

    for (int k : a.ks) {
        const auto lim = bench::matmul_limit(a.model, prompt_len, a.gen - 1, k, a.threads);
        notes.push_back("limit at k = " + std::to_string(k) + ": " + fmt("%.3f s = weight matmuls timed at their shapes (%.2f ms per decode step; prefill chunks at %.1f GFLOP/s) + %.3f s of needed attention (matmuls timed at its shapes); memory read %.1f GB/s", lim.seconds, lim.decode_ms, lim.gflops, lim.attention, lim.read_gbs));
        // 1. shared prefix: one request, k samples, one batch
        std::vector<double> shared_t;
        LlamaEngine::Stats  st;
        // one engine for both in-process methods, warmed up once (its buffers touched) as a running
        // server's is; without the prefix cache no request reuses another's prompt
        auto e = LlamaEngine::create(*model, p);
        if (!e) {
            std::fprintf(stderr, "%s\n", e.error().to_string().c_str());
            return 1;
        }
        if (auto w = (*e)->generate_one(request(k)); !w) {
            std::fprintf(stderr, "warm-up: %s\n", w.error().to_string().c_str());
            return 1;
        }
        for (int rep = 0; rep < a.reps; rep++) {
            (*e)->reset_stats();
            auto t0 = clk::now();
            auto r  = (*e)->generate_one(request(k));
            shared_t.push_back(secs(t0));
            if (!r) {
                std::fprintf(stderr, "shared: %s\n", r.error().to_string().c_str());
                return 1;
            }
            st = (*e)->stats();
        }
        // 2. k independent generations: the prompt prefilled and held k times
        std::vector<double> indep_t;
        double              indep_kv_mib = 0;
        for (int rep = 0; rep < a.reps && a.independent; rep++) {
            (*e)->reset_stats();
            auto t0 = clk::now();
            for (int i = 0; i < k; i++) {
                auto req          = request(1);
                req.sampling.seed = 1 + i;
                if (auto r = (*e)->generate_one(req); !r) {
                    std::fprintf(stderr, "independent: %s\n", r.error().to_string().c_str());
                    return 1;
                }
                indep_kv_mib += (*e)->stats().peak_state_bytes / 1048576.0 / a.reps;  // one generation at a time, summed: k prompts
            }
            indep_t.push_back(secs(t0));
        }
        Stat        sh = stat(shared_t), d = stat(indep_t);
        std::string vs = a.independent ? fmt("%.2fx time", sh.mean / d.mean) : "-";
        std::printf("| shared-prefix batch | %d | %.3f +- %.3f | %.2f | %s | %.2f | %ld | %s | %ld (%d if held k times) | %.1f | %ld |\n", k, sh.mean,
                    sh.sd, 1 / sh.mean, vs.c_str(), sh.mean / lim.seconds, st.decode_steps,
                    st.drafted_tokens ? fmt("%ld of %ld", st.accepted_tokens, st.drafted_tokens).c_str() : "-",
                    st.prefill_tokens + st.decoded_tokens, k * (prompt_len + a.gen), st.peak_state_bytes / 1048576.0, peak_rss_kb(getpid()) / 1024);
        notes.push_back("profile of the shared-prefix batch at k = " + std::to_string(k) + " (last rep): " +
                        fmt("prefill %.3f s, decode %.3f s in llama_decode + %.3f s sampling and drafting, %.3f s other", st.prefill_s,
                            st.decode_s, st.sample_s, shared_t.back() - st.prefill_s - st.decode_s - st.sample_s));
        if (a.independent)
            std::printf("| independent x k | %d | %.3f +- %.3f | %.2f | 1.00x | %.2f | - | - | %d | %.1f | %ld |\n", k, d.mean, d.sd, 1 / d.mean,
                        d.mean / lim.seconds, k * (prompt_len + a.gen), indep_kv_mib, peak_rss_kb(getpid()) / 1024);
        // 3. llama-server, one request with n = k (prompt cache off so every rep prefills), after an untimed one
        if (a.server) {
            httplib::Client cli("127.0.0.1", port);
            cli.set_read_timeout(600, 0);
            std::vector<double> srv_t;
            for (int rep = -1; rep < a.reps; rep++) {
                nlohmann::json body = { { "prompt", prompt }, { "n", k }, { "max_tokens", a.gen }, { "temperature", a.temp },
                                        { "seed", 1 + rep }, { "ignore_eos", true }, { "cache_prompt", false } };
                auto t0 = clk::now();
                auto r  = cli.Post("/v1/completions", body.dump(), "application/json");
                if (rep >= 0) srv_t.push_back(secs(t0));
                if (!r || r->status != 200) {
                    std::fprintf(stderr, "llama-server: %s\n", r ? r->body.substr(0, 200).c_str() : "no response");
                    break;
                }
            }
            Stat v = stat(srv_t);
            std::string vs_srv = a.independent ? fmt("%.2fx time", v.mean / d.mean) : "-";
            std::printf("| llama-server n=k | %d | %.3f +- %.3f | %.2f | %s (shared/server %.2f) | %.2f | - | - | - | - | %ld |\n", k, v.mean, v.sd,
                        1 / v.mean, vs_srv.c_str(), sh.mean / v.mean, v.mean / lim.seconds, peak_rss_kb(server_pid) / 1024);
        }
        std::fflush(stdout);
    }
    std::printf("\n");
    for (const auto & n : notes) std::printf("- %s\n", n.c_str());
    if (server_pid) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, nullptr, 0);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
