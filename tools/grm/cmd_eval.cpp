// `grm eval`: judge a data set or real benchmark K times per input, resumably, and report
// accuracy by domain and level, voting@k for every k from that one sample set, greedy beside it.
#include "commands.h"
#include "engine_flags.h"

#include "core/prompt.h"
#include "core/sample.h"
#include "engines/make_engine.h"
#include "eval/bench_common.h"
#include "eval/benchmarks.h"
#include "eval/harness.h"
#include "scaling/llama_scalar_rm.h"

#include <cstdio>
#include <iostream>
#include <memory>

namespace grm::cli {

namespace {

struct EvalArgs {
    std::string   data;
    std::string   bench;
    std::string   bench_dir;
    std::string   out;
    bool          skip_bad    = false;
    bool          report_only = false;
    long          limit       = 0;
    EngineOptions engine;
    EvalParams    params;
    JudgeFlags    judge_flags;  // --meta: meta@k beside voting@k
};

// The command as given, for the report: every option that was set, in declaration order.
std::string command_line(const CLI::App & cmd) {
    std::string out = "grm eval";
    for (const CLI::Option * o : cmd.get_options()) {
        if (o->count() == 0 || o->get_name() == "--help") continue;
        out += " " + o->get_name();
        if (o->get_expected_max() == 0) continue;  // a flag
        // a delimited list (-k 1,2,4) is split into several results: join it back
        std::string sep = o->get_delimiter() ? std::string(1, o->get_delimiter()) : " ";
        std::string joined;
        for (const std::string & v : o->results()) joined += (joined.empty() ? "" : sep) + v;
        bool plain = !joined.empty() && joined.find_first_of(" \t'\"$\\") == std::string::npos;
        out += " " + (plain ? joined : "'" + joined + "'");
    }
    return out;
}

Result<std::vector<Sample>> load_inputs(EvalArgs & a) {
    if (a.data.empty() == a.bench.empty()) {
        return make_error(Errc::invalid_argument, "give exactly one of --data FILE.jsonl or --bench NAME");
    }
    std::vector<Sample> samples;
    if (!a.data.empty()) {
        auto f = read_samples_jsonl(a.data, a.skip_bad);
        if (!f) return f.error();
        samples              = std::move(f->samples);
        a.params.bad_lines   = std::move(f->skipped);
        a.params.data        = a.data;
        for (const std::string & bad : a.params.bad_lines) std::cerr << "grm eval: skipped " << bad << "\n";
    } else {
        std::string dir = a.bench_dir.empty() ? default_benchmarks_dir() : a.bench_dir;
        auto        s   = load_benchmark(a.bench, dir);
        if (!s) return s.error();
        samples            = std::move(s.value());
        a.params.data      = a.bench + " (" + dir + ")";
        a.params.benchmark = a.bench;
    }
    if (a.limit > 0 && (long) samples.size() > a.limit) samples.resize((size_t) a.limit);
    if (samples.empty()) return make_error(Errc::invalid_argument, "no inputs to evaluate");
    return samples;
}

void print_summary(const EvalOutcome & o) {
    auto line = [](const std::string & name, const Tally & t) {
        std::printf("%-12s %6d items   accuracy %5.1f%% (ties random)   %5.1f%% (ties wrong)\n", name.c_str(), t.items,
                    100.0 * t.random_acc(), 100.0 * t.strict_acc());
    };
    if (o.greedy && !o.greedy->plain.empty()) line("greedy", o.greedy->plain[0].overall);
    for (const KSummary & k : o.sampled.plain) line("voting@" + std::to_string(k.k), k.overall);
    for (const KSummary & k : o.sampled.meta) line("meta@" + std::to_string(k.k), k.overall);
    // Mixed styles (judge world data carrying `style`): each style's accuracy too.
    const KSummary * first = o.greedy && !o.greedy->plain.empty() ? &o.greedy->plain[0] : o.sampled.plain.empty() ? nullptr : &o.sampled.plain[0];
    if (first && (first->by_style.size() > 1 || (first->by_style.size() == 1 && first->by_style.begin()->first != "standard"))) {
        const std::string name = o.greedy && !o.greedy->plain.empty() ? "greedy" : "voting@" + std::to_string(first->k);
        for (const auto & [style, t] : first->by_style) line(name + " " + style, t);
    }
    if (o.sampled.skipped) std::printf("skipped inputs: %d\n", o.sampled.skipped);
    std::printf("results: %s\nreport:  %s\nplot:    %s\n", o.results_path.c_str(), o.report_path.c_str(),
                o.plot_path.c_str());
}

int run(EvalArgs & a, const CLI::App & cmd) {
    a.params.command_line = command_line(cmd);
    if (a.out.empty()) {
        std::cerr << "grm eval: --out DIR is required\n";
        return 2;
    }
    if (a.report_only) {
        a.params.benchmark = a.bench;
        a.params.data      = !a.data.empty() ? a.data : a.bench;
        a.params.model     = a.engine.model;
        auto o             = report_eval(a.params, a.out);
        if (!o) {
            std::cerr << "grm eval: " << o.error().message << "\n";
            return 1;
        }
        print_summary(*o);
        return 0;
    }
    // Inputs are read and checked before the model is loaded, so a malformed line stops the run
    // before any work is done.
    auto samples = load_inputs(a);
    if (!samples) {
        std::cerr << "grm eval: " << samples.error().message << "\n";
        return 2;
    }
    if (auto st = apply_judge_flags(a.judge_flags, a.params.judge); !st) {
        std::cerr << "grm eval: " << st.error().message << "\n";
        return 2;
    }
    auto engine = make_engine(a.engine);
    if (!engine) {
        std::cerr << "grm eval: " << engine.error().message << "\n";
        return 2;
    }
    a.params.model = (*engine)->describe();
    a.params.log   = [](const std::string & m) { std::cerr << "grm eval: " << m << "\n"; };
    auto meta = load_meta_flag(a.judge_flags, a.engine.llama.threads);
    if (!meta) {
        std::cerr << "grm eval: " << meta.error().to_string() << "\n";
        return 2;
    }
    auto o = run_eval(**engine, *samples, a.params, a.out, meta->get());
    if (!o) {
        std::cerr << "grm eval: " << o.error().to_string() << "\n(rerun the same command to continue where it stopped)\n";
        return 1;
    }
    print_summary(*o);
    return 0;
}

}  // namespace

void register_eval(CLI::App & app) {
    auto   a   = std::make_shared<EvalArgs>();
    auto * cmd = app.add_subcommand("eval", "evaluate a GRM on a JSONL data set or a real benchmark (resumable)");
    std::string benches;
    for (const std::string & n : benchmark_names()) benches += (benches.empty() ? "" : "|") + n;
    cmd->add_option("--data", a->data, "samples in the JSONL sample format");
    cmd->add_option("--bench", a->bench, "a real benchmark: " + benches)->check(CLI::IsMember(benchmark_names()));
    cmd->add_option("--bench-dir", a->bench_dir, "benchmark data folder (default: $GRM_BENCHMARKS_DIR or ../shared/benchmarks)");
    cmd->add_option("-o,--out", a->out, "output folder: results.jsonl, greedy.jsonl, report.md, accuracy_vs_k.svg");
    cmd->add_option("-k", a->params.ks, "voting@k for each k, comma-separated; K = the largest is sampled once per input")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_flag("--greedy", a->params.greedy, "also run greedy (temperature 0, k = 1) into greedy.jsonl");
    cmd->add_option("-s,--seed", a->params.seed,
                    "seed: sample i of input ID samples and shuffles with streams derived from (seed, ID, i); tie-breaks too")
        ->capture_default_str();
    cmd->add_flag("--skip-bad", a->skip_bad, "skip malformed input lines (counted in the report) instead of stopping");
    cmd->add_option("--limit", a->limit, "evaluate only the first N inputs");
    cmd->add_option("--batch", a->params.batch, "inputs judged together per engine call")->capture_default_str();
    cmd->add_flag("--report-only", a->report_only, "rewrite report.md and the plot from the results in --out");
    add_judge_flags(*cmd, a->judge_flags, a->params.judge);
    add_engine_flags(*cmd, a->engine, /*reproducible=*/true);  // a resumed run equals a straight one
    add_sampling_flags(*cmd, a->params.judge.sampling);
    cmd->callback([a, cmd]() { std::exit(run(*a, *cmd)); });
}

}  // namespace grm::cli
