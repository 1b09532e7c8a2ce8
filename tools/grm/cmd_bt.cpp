// `grm bt`: the Bradley-Terry scalar RM baseline on the GRM's backbone: train on pairwise
// preferences from the judge world (best vs each other response), and evaluate it on sample JSONL
// with the harness's protocol (argmax with ties broken at random, and strict).
#include "commands.h"

#include "core/atomic_file.h"
#include "scalar_rm_run.h"

#include "core/seed.h"
#include "core/vote.h"
#include "model/vocab_file.h"
#include "scaling/llama_scalar_rm.h"
#include "scaling/rm_text.h"
#include "rl/scalar_rm.h"
#include "world/generator.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>

namespace grm::cli {

namespace {

struct BtArgs : ScalarRmArgs {
    int      count    = 2000;
    uint64_t gen_seed = 1;
};

struct BtEvalArgs {
    std::string model, data, out;
    int         threads = 1;
    uint64_t    seed    = 0;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm bt: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int train(BtArgs & a, const CLI::App & cmd) {
    auto start = start_scalar_rm(a, cmd, "bt");
    if (!start) return fail(start.error());
    if (start->exit_code) return *start->exit_code;
    // The same inputs the GRM trains on (train split), generated deterministically from the seed.
    world::GenParams gp;
    gp.split = world::Split::train;
    gp.count = a.count;
    gp.seed  = a.gen_seed;
    std::vector<Sample> samples;
    for (auto & it : world::generate(gp)) samples.push_back(std::move(it.sample));
    auto pairs = rl::bt_pairs(samples, *start->tok, start->cfg.n_ctx);
    if (pairs.empty()) return fail(make_error(Errc::invalid_argument, "no preference pairs (no input with n >= 2)"));

    auto last = rl::train_and_export_scalar_rm(start->cfg, std::move(pairs), start->opts, start->job);
    if (!last) return fail(last.error());
    if (start->main()) std::fprintf(stderr, "grm bt: step %lld, loss %.4f, pair accuracy %.3f; exported %s (+ .head.json)\n",
                 (long long) last->step, last->loss, last->accuracy, start->job.export_path.c_str());
    return 0;
}

// Scores every response (N responses -> N rewards); a sample is right when its best wins.
// Single-response samples have no preference to rank and are counted as skipped.
int evaluate(BtEvalArgs & a) {
    auto rm = scaling::LlamaScalarRm::load(a.model, a.threads);
    if (!rm) return fail(rm.error());
    auto file = read_samples_jsonl(a.data);
    if (!file) return fail(file.error());
    struct Cell {
        long n = 0, random = 0, strict = 0;
    };
    std::map<std::string, Cell> by_domain;
    Cell                        total;
    long                        skipped = 0;
    std::string                 lines;  // --out, written whole at the end
    for (size_t i = 0; i < file->samples.size(); ++i) {
        const Sample & s = file->samples[i];
        if (s.n() < 2 || !s.best) {
            ++skipped;
            continue;
        }
        std::vector<std::string> texts;
        for (int r = 0; r < s.n(); ++r) texts.push_back(scaling::bt_rm_text(s, r));
        auto rewards = (*rm)->score_texts(texts);
        if (!rewards) return fail(rewards.error());
        const bool random = random_tiebreak_argmax(*rewards, stream_seed(a.seed, Stream::tie_break, s.id, 0)) == *s.best;
        const auto strict = strict_argmax(*rewards);
        const bool ok     = strict && *strict == *s.best;
        for (Cell * c : {&by_domain[s.domain], &total}) {
            ++c->n;
            c->random += random;
            c->strict += ok;
        }
        lines += nlohmann::json{{"id", s.id}, {"rewards", *rewards}, {"best", *s.best}, {"correct", random}}.dump() + "\n";
    }
    if (!a.out.empty()) {
        if (auto st = write_text_atomic(a.out, lines); !st) return fail(st.error());
    }
    auto pct = [](long k, long n) { return n > 0 ? 100.0 * double(k) / double(n) : 0.0; };
    std::printf("| domain | n | accuracy (ties random) | strict |\n|---|---|---|---|\n");
    for (const auto & [d, c] : by_domain)
        std::printf("| %s | %ld | %.1f | %.1f |\n", d.c_str(), c.n, pct(c.random, c.n), pct(c.strict, c.n));
    std::printf("| overall | %ld | %.1f | %.1f |\n\nskipped (n = 1): %ld\n", total.n, pct(total.random, total.n),
                pct(total.strict, total.n), skipped);
    return 0;
}

}  // namespace

void register_bt(CLI::App & app) {
    auto   a   = std::make_shared<BtArgs>();
    auto   e   = std::make_shared<BtEvalArgs>();
    auto * bt  = app.add_subcommand("bt", "the Bradley-Terry scalar RM baseline");
    auto * cmd = bt->add_subcommand("train", "train on world preferences (best vs others), resumable; exports OUT/bt.gguf");
    bt->require_subcommand(1);
    add_scalar_rm_flags(cmd, *a, "bt", "pairs");
    cmd->add_option("--count", a->count, "judge-world train inputs")->capture_default_str();
    cmd->add_option("--gen-seed", a->gen_seed, "seed of those inputs")->capture_default_str();
    cmd->callback([a, cmd]() { std::exit(train(*a, *cmd)); });

    auto * ev = bt->add_subcommand("eval", "accuracy of a BT RM on sample JSONL (Markdown table on stdout)");
    ev->add_option("--model", e->model, "bt.gguf (with bt.gguf.head.json)")->required();
    ev->add_option("--data", e->data, "sample JSONL with ground truth")->required();
    ev->add_option("--out", e->out, "per-sample rewards as JSONL");
    ev->add_option("--threads", e->threads, "llama.cpp threads")->capture_default_str();
    ev->add_option("--seed", e->seed, "tie-break seed")->capture_default_str();
    ev->callback([e]() { std::exit(evaluate(*e)); });
}

}  // namespace grm::cli
