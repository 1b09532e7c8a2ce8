// `grm rft` throughput, two ways in one run: the policy in-process (llama.cpp, all threads) and the
// same model behind two llama-server processes on loopback (half the threads each) that grm's
// OpenAI engine spreads the work across. Prints trajectories/s, the ratio, and the share of wall
// time spent outside the engine (sampling bookkeeping, rule, files). Not a test.
#include "../bench_common.h"
#include "../bench_model.h"
#include "data/rft.h"
#include "engines/make_engine.h"

#include <CLI/CLI.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace grm;
using namespace grm::bench;

namespace {

struct Args {
    int         threads = 2, inputs = 16, k = 3, gen = 64;
    std::string model;  // empty: write a random 20.4 M-parameter model
};


// Forwards to an engine and adds up the wall time spent inside generate().
class TimedEngine : public Engine {
  public:
    explicit TimedEngine(Engine & inner) : inner_(inner) {}
    std::string describe() const override { return inner_.describe(); }
    std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & requests) override {
        auto t0 = clk::now();
        auto r  = inner_.generate(requests);
        inside += secs(t0);
        return r;
    }
    double inside = 0;

  private:
    Engine & inner_;
};

std::vector<Sample> make_inputs(int n) {
    std::vector<Sample> v;
    for (int i = 0; i < n; i++) {
        Sample s;
        s.id           = "in" + std::to_string(i);
        s.source       = "bench";
        s.conversation = { { "user", "What is " + std::to_string(17 * i + 3) + " + " + std::to_string(29 * i + 8) + "? Answer with the sum." } };
        s.responses    = { std::to_string(46 * i + 11), std::to_string(46 * i + 12) };
        s.best         = 0;
        v.push_back(std::move(s));
    }
    return v;
}


struct Run {
    double wall = 0, inside = 0;
    long   trajectories = 0;
};

Run run(Engine & engine, const std::vector<Sample> & inputs, const data::RftParams & p, const std::string & dir) {
    TimedEngine timed(engine);
    auto        t0 = clk::now();
    auto        r  = data::run_rft(timed, inputs, p, dir);
    Run         out;
    out.wall   = secs(t0);
    out.inside = timed.inside;
    if (!r) {
        std::fprintf(stderr, "bench_rft: %s\n", r.error().to_string().c_str());
        std::exit(1);
    }
    // Every input is a pair that fits: k sampled trajectories and one hinted each.
    out.trajectories = (long) inputs.size() * (p.judge.k + (p.hinted ? 1 : 0));
    return out;
}

}  // namespace

int main(int argc, char ** argv) {
    Args     a;
    CLI::App app{ "bench_rft: RFT sampling in-process against the same engine behind llama-server" };
    app.add_option("--threads", a.threads)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--inputs", a.inputs)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("-k", a.k, "sampled trajectories per input")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--gen", a.gen, "tokens generated per trajectory")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--model", a.model, "GGUF (default: a random 20.4 M-parameter model written to a temp dir)");
    CLI11_PARSE(app, argc, argv);
    char dir[] = "/tmp/grm-bench-rft-XXXXXX";
    mkdtemp(dir);
    if (a.model.empty() && (a.model = write_bench_model(dir)).empty()) return 1;
    const auto      inputs = make_inputs(a.inputs);
    data::RftParams p;
    p.judge.k                    = a.k;
    p.judge.seed                 = 1;
    p.judge.sampling.max_tokens  = a.gen;
    p.judge.sampling.ignore_eos  = true;  // every trajectory the same length, whatever the model writes
    p.judge.sampling.temperature = 1.0f;
    p.batch                      = 4;
    const int n_ctx              = 2048;

    std::printf("# bench_rft: model %s\n", a.model.c_str());
    std::printf("# %d inputs (2 responses each), k = %d + 1 hinted, %d generated tokens per trajectory, batch %d, threads %d, "
                "commit %s\n",
                a.inputs, a.k, a.gen, p.batch, a.threads, bench::git_commit().c_str());
    std::printf("| policy | trajectories | wall s | trajectories/s | vs in-process | outside the engine |\n|---|---|---|---|---|---|\n");

    EngineOptions in;
    in.model         = a.model;
    in.llama.threads = a.threads;
    auto local       = make_engine(in);
    if (!local) {
        std::fprintf(stderr, "%s\n", local.error().to_string().c_str());
        return 1;
    }
    const Run base = run(**local, inputs, p, std::string(dir) + "/in-process");
    local->reset();  // free its KV cache before the servers take theirs
    auto row = [&](const char * name, const Run & r) {
        std::printf("| %s | %ld | %.2f | %.2f | %.2fx | %.1f%% |\n", name, r.trajectories, r.wall, r.trajectories / r.wall,
                    (r.trajectories / r.wall) / (base.trajectories / base.wall), 100.0 * (1.0 - r.inside / r.wall));
        std::fflush(stdout);
    };
    row("in-process llama.cpp", base);

    const int   half  = std::max(1, a.threads / 2);
    const int   port0 = 19000 + getpid() % 500;
    const int   slots = p.batch * (a.k + 1);
    const pid_t s1    = bench::start_llama_server(a.model, port0, half, slots, slots * n_ctx);
    const pid_t s2    = bench::start_llama_server(a.model, port0 + 1, half, slots, slots * n_ctx);
    if (s1 < 0 || s2 < 0) {
        std::fprintf(stderr, "bench_rft: llama-server did not start\n");
        if (s1 > 0) kill(s1, SIGTERM);
        if (s2 > 0) kill(s2, SIGTERM);
        return 1;
    }
    EngineOptions up;
    up.model      = "http://127.0.0.1:" + std::to_string(port0) + ",http://127.0.0.1:" + std::to_string(port0 + 1);
    auto remote   = make_engine(up);
    if (!remote) {
        std::fprintf(stderr, "%s\n", remote.error().to_string().c_str());
        return 1;
    }
    row("2 x llama-server (loopback)", run(**remote, inputs, p, std::string(dir) + "/servers"));
    kill(s1, SIGTERM);
    kill(s2, SIGTERM);
    waitpid(s1, nullptr, 0);
    waitpid(s2, nullptr, 0);
    std::filesystem::remove_all(dir);
    return 0;
}
