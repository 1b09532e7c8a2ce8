// Training throughput: grm's C++ trainer vs the same model, batch and threads in Python PyTorch,
// alternating rounds in one run; prints tokens/s, GFLOP/s and the C++/Python ratio.
#include "model/config.h"
#include "model/trainer.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace grm;
using namespace grm::model;

namespace {

std::string shell(const std::string & cmd) {
    std::string out;
    FILE *      p = popen(cmd.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

struct Stats {
    double mean = 0, sd = 0;
};
Stats stats(const std::vector<double> & v) {
    Stats s;
    for (double x : v) s.mean += x;
    s.mean /= double(v.size());
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = v.size() > 1 ? std::sqrt(s.sd / double(v.size() - 1)) : 0.0;
    return s;
}

// The machine's matmul ceiling for this model: the step's linear-layer GEMMs (forward x W^T,
// backward dY W and dY^T x, at their shapes and transposes) timed alone with torch::mm on the
// same threads; their FLOPs over their time bound what a training step can reach.
double matmul_ceiling_gflops(const LlamaConfig & c, int64_t tokens) {
    const int64_t d = c.n_embd, kv = int64_t(c.n_head_kv) * c.head_dim();
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{d, d}, {d, kv}, {d, kv}, {d, d}, {d, c.n_ff}, {d, c.n_ff}, {c.n_ff, d}};
    double flops = 0, seconds = 0;
    auto   time_mm = [&](const torch::Tensor & a, const torch::Tensor & b, int64_t repeat) {
        torch::mm(a, b);  // warm-up
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 3; ++i) torch::mm(a, b);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 3 * double(repeat);
        flops += 2.0 * double(a.size(0) * a.size(1) * b.size(1)) * double(repeat);
    };
    auto gemms = [&](int64_t in, int64_t out, int64_t repeat) {
        auto x = torch::randn({tokens, in}), w = torch::randn({out, in}), dy = torch::randn({tokens, out});
        time_mm(x, w.t(), repeat);   // forward
        time_mm(dy, w, repeat);      // input gradient
        time_mm(dy.t(), x, repeat);  // weight gradient
    };
    for (const auto & [in, out] : shapes) gemms(in, out, c.n_layer);
    gemms(d, c.n_vocab, 1);  // LM head
    return flops / seconds / 1e9;
}

}  // namespace

int main(int argc, char ** argv) {
    int         threads = 2, batch = 16, seq = 256, steps = 5, warmup = 1, rounds = 2;
    std::string python  = "/usr/bin/python3", profile;
    CLI::App app{ "train_bench: training steps/s of the C++ trainer against the same model in PyTorch" };
    app.add_option("--threads", threads)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--batch", batch)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--seq", seq)->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--steps", steps, "timed steps per round")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--rounds", rounds, "alternating C++ / PyTorch rounds")->capture_default_str()->check(CLI::Range(1, 1 << 20));
    app.add_option("--python", python)->capture_default_str();
    app.add_option("--profile", profile, "write the C++ steps' profiler trace here (TRACE.json)");
    CLI11_PARSE(app, argc, argv);
    torch::set_num_threads(threads);

    // ~5 M parameters: 6 layers of width 256, GQA 8/4 heads, SwiGLU 640, 4096-piece tied vocab.
    LlamaConfig cfg;
    cfg.n_vocab = 4096, cfg.n_ctx = std::max(seq, 256), cfg.n_embd = 256, cfg.n_layer = 6;
    cfg.n_head = 8, cfg.n_head_kv = 4, cfg.n_ff = 640, cfg.tied_embeddings = true;
    const std::string cfg_path = "/tmp/grm-train-bench-" + std::to_string(getpid()) + ".json";
    if (!save_config(cfg_path, cfg)) return 1;

    // Full rows of random tokens: every position is a trained target, as in the Python side.
    std::mt19937_64      rng(1);
    std::vector<Example> ex;
    for (int i = 0; i < batch * 4; ++i) {
        Example e;
        for (int j = 0; j < seq; ++j) e.tokens.push_back(3 + int(rng() % uint64_t(cfg.n_vocab - 3)));
        ex.push_back(std::move(e));
    }
    TrainOptions o;
    o.steps = 1000, o.batch = batch, o.seq = seq, o.lr = 1e-3, o.warmup = 10;
    Transformer model(cfg);
    model->init_weights(0);
    LmTrainer trainer(model, std::make_shared<PackedDataset>(ex, batch, seq, 0), o);

    // FLOPs per trained token: 6 x matmul parameters (layers + the LM head) plus attention
    // scores and mixing, 3 x (2 matmuls x 2 T d) per layer, counted on the full T x T square (the
    // usual convention; the C++ attention skips the blocks above the diagonal).
    const double n_matmul = double(parameter_count(cfg) - int64_t(cfg.n_vocab) * cfg.n_embd) -
                            double(cfg.n_embd) * (2 * cfg.n_layer + 1) + double(cfg.n_vocab) * cfg.n_embd;
    const double flop_per_token = 6.0 * n_matmul + 12.0 * cfg.n_layer * double(seq) * cfg.n_embd;
    const double tokens_per_step = double(batch) * seq;

    if (!profile.empty()) {  // one warmed-up C++ step as a chrome trace of its ops (chrome://tracing)
        trainer.step();
        torch::autograd::profiler::RecordProfile guard(profile);
        trainer.step();
    }
    std::vector<double> cpp_tps, py_tps;
    for (int r = 0; r < rounds; ++r) {
        for (int i = 0; i < warmup; ++i) trainer.step();
        for (int i = 0; i < steps; ++i) cpp_tps.push_back(tokens_per_step / trainer.step().seconds);
        const std::string cmd = python + " " GRM_SOURCE_DIR "/bench/train/train_bench.py --config " + cfg_path +
                                " --threads " + std::to_string(threads) + " --batch " + std::to_string(batch) +
                                " --seq " + std::to_string(seq) + " --steps " + std::to_string(steps) +
                                " --warmup-steps " + std::to_string(warmup);
        const std::string out = shell(cmd);
        try {
            auto j = nlohmann::json::parse(out.substr(out.rfind('{')));
            for (double s : j["step_seconds"]) py_tps.push_back(tokens_per_step / s);
        } catch (const std::exception & e) {
            std::fprintf(stderr, "python side failed (%s): %s\n", e.what(), out.c_str());
            return 1;
        }
    }
    std::remove(cfg_path.c_str());

    const double ceiling = matmul_ceiling_gflops(cfg, int64_t(batch) * seq);
    const auto   c       = stats(cpp_tps), p = stats(py_tps);
    std::printf("train_bench  commit %s  libtorch %s  device cpu  threads %d\n",
                shell("git -C " GRM_SOURCE_DIR " rev-parse --short HEAD").c_str(), TORCH_VERSION, threads);
    std::printf("model %.2f M parameters (%d layers, d %d, heads %d/%d kv, ff %d, vocab %d, tied)  batch %d x %d  "
                "%.1f MFLOP/token\n",
                double(parameter_count(cfg)) / 1e6, cfg.n_layer, cfg.n_embd, cfg.n_head, cfg.n_head_kv, cfg.n_ff,
                cfg.n_vocab, batch, seq, flop_per_token / 1e6);
    std::printf("%-8s %12s %10s %10s %8s\n", "impl", "tokens/s", "+-", "GFLOP/s", "steps");
    std::printf("%-8s %12.0f %10.0f %10.1f %8zu\n", "c++", c.mean, c.sd, c.mean * flop_per_token / 1e9, cpp_tps.size());
    std::printf("%-8s %12.0f %10.0f %10.1f %8zu\n", "python", p.mean, p.sd, p.mean * flop_per_token / 1e9, py_tps.size());
    std::printf("%-8s %12s %10s %10.1f %8s   (the step's linear-layer GEMMs alone, torch::mm)\n", "ceiling", "", "", ceiling, "");
    std::printf("ratio c++/python %.3f   c++ at %.0f%% of the matmul ceiling, python at %.0f%%\n", c.mean / p.mean,
                100.0 * c.mean * flop_per_token / 1e9 / ceiling, 100.0 * p.mean * flop_per_token / 1e9 / ceiling);
    return 0;
}
