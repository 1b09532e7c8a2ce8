// `grm rft`: SPCT stage 1 with any engine as the policy (a GGUF in-process or OpenAI-compatible
// server URLs): sampled trajectories on samples with ground truth, rejected by the rule, too-easy
// inputs dropped, hinted samples kept when right; resumable; data for grm train, OpenRLHF or TRL.
#include "commands.h"
#include "engine_flags.h"
#include "progress.h"

#include "data/rft.h"
#include "engines/make_engine.h"

#include <cstdio>
#include <memory>

namespace grm::cli {

namespace {

struct RftArgs {
    std::vector<std::string> data;
    std::string              out;
    bool                     no_hint  = false;
    bool                     progress = false;
    EngineOptions            engine;
    data::RftParams          params;
    JudgeFlags               judge_flags;
};

int fail(const Error & e, int code) {
    std::fprintf(stderr, "grm rft: %s\n", e.to_string().c_str());
    return code;
}

int run(RftArgs & a) {
    // Inputs and settings are checked before the model loads: a bad line costs no sampling.
    std::vector<Sample> inputs;
    for (const std::string & f : a.data) {
        auto file = read_samples_jsonl(f);
        if (!file) return fail(file.error(), 2);
        for (Sample & s : file->samples) inputs.push_back(std::move(s));
    }
    if (auto st = apply_judge_flags(a.judge_flags, a.params.judge); !st) return fail(st.error(), 2);
    if (auto st = data::check_rft_inputs(inputs, a.params.judge.binary_single); !st) return fail(st.error(), 2);
    a.params.hinted = !a.no_hint;
    auto engine     = make_engine(a.engine);
    if (!engine) return fail(engine.error(), 2);
    std::fprintf(stderr, "grm rft: %zu inputs, k = %d, %s\n", inputs.size(), a.params.judge.k, (*engine)->describe().c_str());
    std::unique_ptr<Progress> bar;  // one per pass: the k trajectories, then each hinted group
    long                      last = 0;
    a.params.progress = [&](long done, long todo) {
        if (!bar || done <= last) bar = std::make_unique<Progress>(todo, "inputs", a.progress);
        bar->update(done);
        last = done;
        if (done == todo) {
            bar->finish();
            last = 0;
            bar.reset();
        }
    };
    auto report = data::run_rft(**engine, inputs, a.params, a.out);
    if (!report) return fail(report.error(), 1);
    std::fputs(report->markdown(a.params).c_str(), stdout);
    std::fprintf(stderr, "grm rft: %ld trajectories kept -> %s/rft.jsonl (report.md beside it)\n",
                 report->total.kept + report->total.hinted_kept, a.out.c_str());
    return 0;
}

}  // namespace

void register_rft(CLI::App & app) {
    auto   a           = std::make_shared<RftArgs>();
    a->params.judge.k  = 3;  // N_RFT (the paper)
    auto * cmd         = app.add_subcommand("rft", "SPCT stage 1: rejective fine-tuning data sampled from any engine (resumable)");
    cmd->add_option("--data", a->data, "samples with ground truth (best; ratings for one response, or label with --binary-single), e.g. from grm data import")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("-o,--out", a->out, "folder: results.jsonl, hinted.jsonl (resume state), rft.jsonl, report.md")->required();
    cmd->add_option("-k,--samples", a->params.judge.k, "trajectories per input (N_RFT)")->capture_default_str()->check(CLI::Range(1, 64));
    cmd->add_option("-s,--seed", a->params.judge.seed, "seed: trajectory i of input ID samples and shuffles with streams from (seed, ID, i)")
        ->capture_default_str();
    cmd->add_flag("--no-hint", a->no_hint, "no hinted trajectory (by default one per input with n >= 2, kept if right)");
    cmd->add_option("--mix", a->params.mix_path, "general instruction data ({\"prompt\", \"completion\"} or {\"messages\"} lines)");
    cmd->add_option("--mix-ratio", a->params.mix_ratio, "general rows per kept trajectory")->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--batch", a->params.batch, "inputs per engine call")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_flag("--progress", a->progress, "show the progress bar even when stderr is not a terminal");
    add_judge_flags(*cmd, a->judge_flags, a->params.judge, /*meta=*/false);
    add_engine_flags(*cmd, a->engine, /*reproducible=*/true);  // a resumed run equals a straight one
    add_sampling_flags(*cmd, a->params.judge.sampling);
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
