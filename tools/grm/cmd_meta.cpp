// `grm meta train`: the meta RM, a scalar-head model trained with BCE to predict whether a
// trajectory is correct, on non-hinted teacher (RFT-style) trajectories plus the policy's own
// samples; exported as a GGUF backbone + head sidecar for `grm score --meta` / `grm eval --meta`.
// `grm meta data`: the same kind of data from any engine on any samples with ground truth, for
// `grm meta train --meta-data` or an external trainer.
// `grm meta import`: the head sidecar of a released meta RM (DeepSeek-GRM-27B-MetaRM) whose
// backbone llama.cpp's converter made into a GGUF (docs/deepseek-grm.md).
#include "commands.h"
#include "engine_flags.h"
#include "progress.h"
#include "scalar_rm_run.h"

#include "core/atomic_file.h"
#include "core/seed.h"
#include "core/vote.h"
#include "data/meta_data.h"
#include "data/rft.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "model/vocab_file.h"
#include "rl/grpo.h"
#include "scaling/hf_meta_import.h"
#include "scaling/rm_text.h"
#include "rl/scalar_rm.h"
#include "world/generator.h"
#include "world/teacher.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

namespace grm::cli {

namespace {

// Rollout sampling with room for a whole judgment: the meta RM learns from complete trajectories.
SamplingParams policy_sampling() {
    SamplingParams s = rl::rollout_sampling();
    s.max_tokens     = 384;
    return s;
}

struct MetaArgs : ScalarRmArgs {
    std::string policy;
    int         count = 2000, teacher_samples = 3, policy_samples = 3;
    uint64_t    gen_seed    = 1;
    double      fallibility = 0.15;
    SamplingParams sampling = policy_sampling();  // the policy's trajectories
    bool        quote       = false;
    bool        no_balance  = false;
    std::string meta_data;  // a meta_data.jsonl (grm meta data) instead of judge-world trajectories
};

struct MetaDataArgs {
    std::vector<std::string> data;
    std::string              out;
    bool                     no_balance = false;
    bool                     progress   = false;
    EngineOptions            engine;
    data::MetaDataParams     params;
    JudgeFlags               judge_flags;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm meta: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

// Writes <out>/meta_data.jsonl ({"text", "label", "source"}) once; a resumed run reads it back.
Status build_meta_data(const MetaArgs & a, const LlamaModel & tok, const std::string & path) {
    world::GenParams gp;
    gp.split = world::Split::train;
    gp.count = a.count;
    gp.seed  = a.gen_seed;
    const auto items = world::generate(gp);
    std::vector<nlohmann::json> lines;
    long                        pos = 0;
    world::TeacherParams tp;
    tp.fallibility = a.fallibility;
    tp.quote       = a.quote;
    for (size_t i = 0; i < items.size(); ++i) {
        const Sample & s = items[i].sample;
        for (int k = 0; k < a.teacher_samples; ++k) {
            const auto order = shuffle_order(s.n(), stream_seed(a.gen_seed, Stream::shuffle, i, uint64_t(k)));
            const auto t     = world::teach(items[i], order, stream_seed(a.gen_seed, Stream::meta_data, i, uint64_t(k)), tp);
            const bool ok    = is_correct(t.scores, s);
            pos += ok;
            lines.push_back({{"text", scaling::meta_rm_text(s, order, t.text)}, {"label", ok ? 1 : 0}, {"source", "teacher"}});
        }
    }
    if (a.policy_samples > 0) {
        const std::string pdir_in = a.policy.empty() ? a.init : a.policy;
        auto              pdir    = model::resolve_checkpoint(pdir_in);
        if (!pdir) return pdir.error();
        auto loaded = model::load_merged_lm(*pdir);  // a LoRA policy's adapters merged
        if (!loaded) return loaded.error();
        model::Transformer policy = *loaded;
        std::vector<Sample> samples;
        for (const auto & it : items) samples.push_back(it.sample);
        for (size_t first = 0; first < samples.size(); first += 8) {
            std::vector<int> which;
            for (size_t i = first; i < std::min(samples.size(), first + 8); ++i) which.push_back(int(i));
            rl::RolloutParams rp;
            rp.group          = a.policy_samples;
            rp.sampling       = a.sampling;
            rp.sampling.seed  = stream_seed(a.gen_seed, Stream::meta_rollout, first);
            auto rs           = rl::rollout(*policy, tok, samples, which, rp, rl::default_reward);
            if (!rs) return rs.error();
            for (const auto & r : *rs) {
                pos += r.reward.correct;
                lines.push_back({{"text", scaling::meta_rm_text(samples[size_t(r.input)], r.order, r.text)},
                                 {"label", r.reward.correct ? 1 : 0}, {"source", "policy"}});
            }
            std::fprintf(stderr, "\rgrm meta: policy samples for %zu/%zu inputs", std::min(samples.size(), first + 8), samples.size());
        }
        std::fprintf(stderr, "\n");
    }
    std::fprintf(stderr, "grm meta: %zu trajectories, %ld labelled correct\n", lines.size(), pos);
    return write_file_atomic(path, [&](std::ostream & out) {
        for (const auto & l : lines) out << l.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    });
}

int run_meta_data(MetaDataArgs & a) {
    std::vector<Sample> inputs;
    for (const std::string & f : a.data) {
        auto file = read_samples_jsonl(f);
        if (!file) return fail(file.error());
        for (Sample & s : file->samples) inputs.push_back(std::move(s));
    }
    if (auto st = apply_judge_flags(a.judge_flags, a.params.judge); !st) return fail(st.error());
    if (auto st = data::check_rft_inputs(inputs, a.params.judge.binary_single); !st) return fail(st.error());
    a.params.balance = !a.no_balance;
    auto engine      = make_engine(a.engine);
    if (!engine) return fail(engine.error());
    Progress bar((long) inputs.size(), "inputs", a.progress);
    a.params.progress = [&](long done, long) { bar.update(done); };
    auto report       = data::run_meta_data(**engine, inputs, a.params, a.out);
    bar.finish();
    if (!report) return fail(report.error());
    for (const auto & b : report->sources) {
        std::fprintf(stderr, "grm meta data: %s: %lld correct, %lld wrong -> %lld kept\n", b.source.empty() ? "(none)" : b.source.c_str(),
                     (long long) b.correct, (long long) b.wrong, (long long) b.kept);
    }
    std::fprintf(stderr, "grm meta data: %ld trajectories -> %s/meta_data.jsonl (%ld inputs skipped: prompt too long)\n",
                 report->lines, a.out.c_str(), report->skipped);
    return 0;
}

int run(MetaArgs & a, const CLI::App & cmd) {
    namespace fs = std::filesystem;
    auto start = start_scalar_rm(a, cmd, "meta");
    if (!start) return fail(start.error());
    if (start->exit_code) return *start->exit_code;
    const bool main = start->main();
    std::error_code ec;
    fs::create_directories(a.out, ec);
    const std::string data_path = a.meta_data.empty() ? (fs::path(a.out) / "meta_data.jsonl").string() : a.meta_data;
    // Rank 0 alone writes the trajectories; the others wait for them as long as that takes (a rank
    // that dies still ends the wait at once).
    if (!fs::exists(data_path) && main)
        if (auto st = build_meta_data(a, *start->tok, data_path); !st) return fail(st.error());
    if (const auto & d = start->job.run.dist)
        if (auto st = d->wait_for_main(); !st) return fail(st.error());

    std::vector<rl::MetaExample> data;
    std::ifstream                in(data_path);
    for (std::string line; std::getline(in, line);) {
        auto            j = nlohmann::json::parse(line);
        rl::MetaExample e;
        e.tokens = scaling::fit_context(start->tok->tokenize(j.at("text").get<std::string>(), true, false), start->cfg.n_ctx);
        e.label  = float(j.at("label").get<int>());
        e.source = j.value("source", "");
        data.push_back(std::move(e));
    }
    if (data.empty()) return fail(make_error(Errc::invalid_argument, data_path + " holds no trajectories"));
    if (!a.no_balance) {
        for (const auto & b : rl::balance_labels_by_source(data, stream_seed(a.gen_seed, Stream::meta_balance)))
            if (main) std::fprintf(stderr, "grm meta: %s trajectories: %lld correct, %lld wrong -> %lld kept (labels balanced)\n",
                         b.source.c_str(), (long long) b.correct, (long long) b.wrong, (long long) b.kept);
        if (data.empty())
            return fail(make_error(Errc::invalid_argument, data_path + ": no source has both correct and wrong "
                                                                       "trajectories, so none can be balanced (--no-balance trains on them as they are)"));
    }

    // The backbone starts from the GRM (the paper's meta RM shares the backbone family).
    auto last = rl::train_and_export_scalar_rm(start->cfg, std::move(data), start->opts, start->job);
    if (!last) return fail(last.error());
    if (main) std::fprintf(stderr, "grm meta: step %lld, loss %.4f, batch accuracy %.3f; exported %s (+ .head.json)\n",
                 (long long) last->step, last->loss, last->accuracy, start->job.export_path.c_str());
    return 0;
}

}  // namespace

void register_meta(CLI::App & app) {
    auto   a    = std::make_shared<MetaArgs>();
    auto * meta = app.add_subcommand("meta", "the meta RM (SPCT): train it and export it for meta-guided voting");
    auto * cmd  = meta->add_subcommand("train", "train the meta RM with BCE on teacher and policy trajectories (resumable)");
    meta->require_subcommand(1);
    add_scalar_rm_flags(cmd, *a, "meta", "trajectories");
    cmd->add_option("--policy", a->policy, "checkpoint sampling the policy trajectories (default: --init)");
    cmd->add_option("--count", a->count, "judge-world train inputs")->capture_default_str();
    cmd->add_option("--gen-seed", a->gen_seed, "seed of those inputs and of their samples")->capture_default_str();
    cmd->add_option("--teacher-samples", a->teacher_samples, "non-hinted teacher trajectories per input")->capture_default_str();
    cmd->add_option("--policy-samples", a->policy_samples, "policy trajectories per input")->capture_default_str();
    cmd->add_option("--fallibility", a->fallibility, "teacher fallibility")->capture_default_str();
    cmd->add_option("--temperature", a->sampling.temperature, "policy sampling temperature")->capture_default_str();
    cmd->add_flag("--quote", a->quote, "teacher trajectories quote each response (for a policy trained on grm world rft --quote)");
    cmd->add_option("--max-new-tokens", a->sampling.max_tokens, "policy sample length limit")->capture_default_str();
    cmd->add_flag("--no-balance", a->no_balance,
                  "train on every trajectory (default: per source, as many correct as wrong, so the source cannot "
                  "stand in for the label)");
    cmd->add_option("--meta-data", a->meta_data,
                    "train on this meta_data.jsonl (from grm meta data: any engine, any samples) instead of judge-world "
                    "teacher and policy trajectories")
        ->check(CLI::ExistingFile);
    cmd->callback([a, cmd]() { std::exit(run(*a, *cmd)); });

    auto   d  = std::make_shared<MetaDataArgs>();
    d->params.judge.k = 3;
    auto * dc = meta->add_subcommand("data", "meta RM data from any engine: k judgments per input labelled by the rule, "
                                             "balanced per source (resumable)");
    dc->add_option("--data", d->data, "samples with ground truth (best; ratings for one response, or label with --binary-single), e.g. from grm data import")
        ->required()
        ->check(CLI::ExistingFile);
    dc->add_option("-o,--out", d->out, "folder: results.jsonl (resume state), meta_data.jsonl (for grm meta train --meta-data)")
        ->required();
    dc->add_option("-k,--samples", d->params.judge.k, "judgments per input")->capture_default_str()->check(CLI::Range(1, 64));
    dc->add_option("-s,--seed", d->params.judge.seed, "seed of the samples, their shuffles and the balancing")->capture_default_str();
    dc->add_option("--batch", d->params.batch, "inputs per engine call")->capture_default_str()->check(CLI::PositiveNumber);
    dc->add_flag("--no-balance", d->no_balance, "keep every trajectory (default: per source, as many correct as wrong)");
    dc->add_flag("--progress", d->progress, "show the progress bar even when stderr is not a terminal");
    add_judge_flags(*dc, d->judge_flags, d->params.judge, /*meta=*/false);
    add_engine_flags(*dc, d->engine, /*reproducible=*/true);
    add_sampling_flags(*dc, d->params.judge.sampling);
    dc->callback([d]() { std::exit(run_meta_data(*d)); });

    auto   im  = std::make_shared<scaling::MetaImport>();
    auto * imp = meta->add_subcommand("import", "write the head file of a Hugging Face sequence-classification meta RM "
                                                "(score.weight) next to its backbone GGUF");
    imp->add_option("--hf", im->hf_dir, "checkpoint directory: config.json + model.safetensors (or its shards)")->required();
    imp->add_option("--gguf", im->gguf, "the backbone converted by llama.cpp; writes <gguf>.head.json")->required();
    imp->add_option("--template", im->template_path,
                    "the meta RM's prompt template (e.g. templates/paper-meta.txt): score in its chat layout, the "
                    "rendered template as the user turn and the trajectory as the assistant turn");
    imp->callback([im]() {
        auto head = scaling::import_hf_meta_rm(*im);
        if (!head) std::exit(fail(head.error()));
        std::fprintf(stderr, "grm meta: wrote %s (n_embd %zu, bias %g, %s layout)\n", scaling::head_path(im->gguf).c_str(),
                     head->weight.size(), double(head->bias), head->chat ? "chat" : "plain");
        std::exit(0);
    });
}

}  // namespace grm::cli
