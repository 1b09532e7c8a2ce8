// Many judgments at once: N judge inputs with k samples each, three ways in one run:
// grm's engine given all N in one call (continuous batching: a judgment's samples join the running
// batch when that makes a token cheaper), the same engine given one judgment at a time, and
// llama-server given all N requests (n = k) concurrently, as an RL trainer would send them.
// Real lengths: generation stops at end of text. Not a test: prints rows and ratios measured here.
#include "../bench_common.h"
#include "core/prompt.h"
#include "core/sample.h"
#include "engines/llama_engine.h"
#include "engines/make_engine.h"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using namespace grm;
using namespace grm::bench;

int main(int argc, char ** argv) {
    int              threads = 1, reps = 2, max_tokens = SamplingParams{}.max_tokens;
    std::vector<int> ks      = { 1, 8 };
    float       temp   = SamplingParams{}.temperature;
    bool        server = true;
    std::string model  = default_model_path(), samples;
    CLI::App    app{ "bench_many: N judgments of k samples in one engine call, one at a time, and by llama-server" };
    app.add_option("--samples", samples, "JSONL of judge inputs")->required();
    app.add_option("--model", model)->capture_default_str();
    app.add_option("--ks", ks, "samples per judgment, one row group each")->delimiter(',')->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--threads", threads)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--reps", reps)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--max-tokens", max_tokens)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--temp", temp)->capture_default_str()->check(CLI::Range(0.0, 100.0));
    bool no_server = false, no_exact = false;
    app.add_flag("--no-server", no_server, "skip the llama-server rows");
    app.add_flag("--no-exact-attention", no_exact, "decode attention (over every occupied cell) and matmuls by llama.cpp's kernels, not grm's");
    CLI11_PARSE(app, argc, argv);
    server = !no_server;
    auto file = read_samples_jsonl(samples);
    auto m    = LlamaModel::load(model);
    if (!file || !m || file->samples.empty()) {
        std::fprintf(stderr, "%s\n", !file ? file.error().to_string().c_str() : !m ? m.error().to_string().c_str() : "--samples: no samples");
        return 1;
    }
    // every input's judge prompt (default template, responses in their given order, chat-wrapped);
    // its k samples share it and differ by seed
    std::vector<std::string> prompts;
    long                     prompt_tokens = 0;
    for (const Sample & s : file->samples) {
        std::vector<int> order(s.n());
        for (int j = 0; j < s.n(); j++) order[j] = j;
        auto chat = (*m)->apply_chat_template(render_prompt(default_template(), s, order));
        if (!chat) {
            std::fprintf(stderr, "%s\n", chat.error().to_string().c_str());
            return 1;
        }
        prompts.push_back(*chat);
        prompt_tokens += (long) (*m)->tokenize(*chat, true).size();
    }
    const int n = (int) prompts.size(), kmax = *std::max_element(ks.begin(), ks.end());
    LlamaEngineParams p;
    p.threads      = threads;
    p.prefix_cache = false;  // every rep prefills, as llama-server's cache_prompt false below
    p.exact_attention = !no_exact;
    auto e         = LlamaEngine::create(*m, p);
    if (!e) {
        std::fprintf(stderr, "%s\n", e.error().to_string().c_str());
        return 1;
    }
    pid_t     server_pid = 0;
    const int port       = 18000 + getpid() % 1000;
    if (server) {
        server_pid = start_llama_server(model, port, threads, n * kmax, n * kmax * (*m)->n_ctx_train());
        if (server_pid < 0) {
            std::fprintf(stderr, "llama-server did not start; rerun with --no-server\n");
            return 1;
        }
    }
    std::printf("# bench_many: %s\n", (*e)->describe().c_str());
    std::printf("# %d inputs of %s (%.0f prompt tokens on average), temperature %.2f, max %d tokens (stops at end of text), threads %d, reps %d, commit %s\n",
                n, samples.c_str(), (double) prompt_tokens / n, temp, max_tokens, threads, reps, git_commit().c_str());
    std::printf("| method | k | s for %d judgments (mean +- sd) | judgments/s | generated tokens | tokens/s | tokens per decode step | time vs one call |\n", n);
    std::printf("|---|---|---|---|---|---|---|---|\n");
    int rc = 0;
    for (int k : ks) {
        std::vector<GenerationRequest> reqs(n);
        for (int i = 0; i < n; i++) {
            reqs[i].prompts.assign(k, prompts[i]);
            reqs[i].chat                 = false;
            reqs[i].sampling.temperature = temp;
            reqs[i].sampling.max_tokens  = max_tokens;
            reqs[i].sampling.seed        = 1 + i;
        }
        // each method's wall time per rep, its generated tokens and decode steps; reps alternate the methods
        struct Method {
            std::string         name;
            std::vector<double> t      = {};
            long                tokens = 0, steps = 0;
            LlamaEngine::Stats  stats  = {};  // grm's, last rep
        };
        Method one_call{ "grm, all inputs in one call" }, each{ "grm, one judgment at a time" }, srv{ "llama-server, all at once (n = k each)" };
        auto   run_grm = [&](Method & me, bool together) {
            (*e)->reset_stats();
            auto t0 = clk::now();
            if (together) {
                for (auto & r : (*e)->generate(reqs))
                    if (!r) return r.error().to_string();
            } else {
                for (auto & q : reqs)
                    if (auto r = (*e)->generate_one(q); !r) return r.error().to_string();
            }
            me.t.push_back(secs(t0));
            me.stats  = (*e)->stats();
            me.tokens = me.stats.decoded_tokens, me.steps = me.stats.decode_steps;
            return std::string();
        };
        auto run_server = [&](Method & me) {
            std::vector<std::thread> clients;
            std::vector<std::string> bodies(n);
            auto                     t0 = clk::now();
            for (int i = 0; i < n; i++)
                clients.emplace_back([&, i] {
                    httplib::Client cli("127.0.0.1", port);
                    cli.set_read_timeout(3600, 0);
                    nlohmann::json body = { { "prompt", prompts[i] }, { "n", k },        { "max_tokens", max_tokens },
                                            { "temperature", temp }, { "seed", 1 + i }, { "cache_prompt", false } };
                    auto r = cli.Post("/v1/completions", body.dump(), "application/json");
                    if (r && r->status == 200) bodies[i] = r->body;
                });
            for (auto & c : clients) c.join();
            me.t.push_back(secs(t0));
            me.tokens = 0;  // its usage counts one choice of n: retokenize every choice's text
            for (const std::string & b : bodies) {
                auto j = nlohmann::json::parse(b, nullptr, false);
                if (!j.is_object() || !j["choices"].is_array()) return std::string("a llama-server request failed: ") + b.substr(0, 200);
                for (const auto & c : j["choices"]) me.tokens += (long) (*m)->tokenize(c.value("text", ""), false).size();
            }
            return std::string();
        };
        std::string err = run_grm(each, false);  // warm-up (buffers touched), untimed
        each.t.clear();
        for (int rep = 0; rep < reps && err.empty(); rep++) {
            err = run_grm(one_call, true);
            if (err.empty()) err = run_grm(each, false);
            if (err.empty() && server) err = run_server(srv);
        }
        if (!err.empty()) {
            std::fprintf(stderr, "%s\n", err.c_str());
            rc = 1;
            break;
        }
        const Stat base = stat(one_call.t);
        for (Method * me : { &one_call, &each, &srv }) {
            if (me->t.empty()) continue;
            Stat st = stat(me->t);
            char steps[32] = "-";
            if (me->steps) std::snprintf(steps, sizeof steps, "%.2f", (double) me->tokens / me->steps);
            std::printf("| %s | %d | %.2f +- %.2f | %.2f | %ld | %.0f | %s | %.2fx |\n", me->name.c_str(), k, st.mean, st.sd, n / st.mean,
                        me->tokens, me->tokens / st.mean, steps, st.mean / base.mean);
        }
        for (Method * me : { &one_call, &each })
            std::printf("- profile of \"%s\" at k = %d (last rep): %ld waves, prefill %.3f s, decode %.3f s in llama_decode + %.3f s sampling and drafting, %.3f s other\n",
                        me->name.c_str(), k, me->stats.waves, me->stats.prefill_s, me->stats.decode_s, me->stats.sample_s,
                        me->t.back() - me->stats.prefill_s - me->stats.decode_s - me->stats.sample_s);
        std::fflush(stdout);
    }
    if (server_pid) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, nullptr, 0);
    }
    return rc;
}
