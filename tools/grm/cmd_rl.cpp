// `grm rl train`: SPCT stage 2, GRPO with the rule-based reward from an RFT checkpoint, resumably.
// `grm rl adaptive`: adaptive voting replayed over saved eval samples (samples used vs accuracy).
// `grm rl export` (cmd_rl_export.cpp): prompts + rule labels for training in another framework.
#include "commands.h"
#include "dist_flags.h"
#include "lora_flags.h"
#include "run_start.h"

#include "core/atomic_file.h"
#include "core/sample.h"
#include "core/seed.h"
#include "core/vote.h"
#include "eval/metrics.h"
#include "eval/results.h"
#include "scaling/adaptive_vote.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "rl/grpo.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace grm::cli {

namespace {

struct RlArgs {
    std::string     data, vocab, init, out, device = "cpu";
    rl::GrpoOptions opts;
    model::LoraParams lora;
    int             filter_tries = 4;  // reference samples per input for the always-right filter (0: off)
    bool            principles   = true;
    int             threads      = 1;
    int64_t         save_every   = 10;
    bool            resume       = false;
    bool            no_progress  = false;
    DistArgs        dist;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm rl: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(RlArgs & a, const CLI::App & cmd) {
    namespace fs = std::filesystem;
    auto ds = start_dist(a.dist, cmd, "grm rl train");
    if (!ds) return fail(ds.error());
    if (ds->exit_code) return *ds->exit_code;
    const bool main = ds->main();
    if (a.threads > 0) torch::set_num_threads(a.threads);
    torch::Device device(a.device == "cuda" ? torch::kCUDA : torch::kCPU);
    auto tok = LlamaModel::load(a.vocab, /*vocab_only=*/true);
    if (!tok) return fail(tok.error());
    std::shared_ptr<LlamaModel> shared_tok = *tok;

    // With --resume the schedule, seeds and sampling come from the checkpoint.
    auto start = start_run(a.out, a.resume, a.opts, cmd.count("--steps") > 0, rl::grpo_options_from_json);
    if (!start) return fail(start.error());
    rl::GrpoOptions   opts       = start->opts;
    const std::string resume_dir = start->resume_dir;
    if (!a.resume) opts.prompt = default_template(a.principles);

    auto lora = run_lora(cmd, a.lora, a.resume, start->meta);
    if (!lora) return fail(lora.error());

    auto init_dir = model::resolve_checkpoint(a.init);
    if (!init_dir) return fail(init_dir.error());
    // A LoRA RFT checkpoint starts the policy with its adapters merged.
    auto loaded = model::load_merged_lm(*init_dir);
    if (!loaded) return fail(loaded.error());
    model::Transformer policy = *loaded, reference{nullptr};
    if (lora->on()) {
        // Adapters on the policy; its base (adapters off) is the KL reference, so no second model.
        policy->add_lora(*lora, stream_seed(opts.seed, Stream::lora_init));
    } else {
        auto ref = model::load_merged_lm(*init_dir);
        if (!ref) return fail(ref.error());
        reference = *ref;
        reference->to(device);
    }
    policy->to(device);

    // The filtered inputs are written once and reused on resume, so the run's data never changes.
    // Rank 0 alone filters and writes them; the other ranks wait for the file as long as that takes.
    std::error_code ec;
    fs::create_directories(a.out, ec);
    const std::string inputs_path = (fs::path(a.out) / "inputs.jsonl").string();
    std::vector<Sample> inputs;
    const bool          had_inputs = fs::exists(inputs_path);
    if (ds->dist && !main)
        if (auto st = ds->dist->wait_for_main(); !st) return fail(st.error());
    if (!main || had_inputs) {
        auto f = read_samples_jsonl(inputs_path);
        if (!f) return fail(f.error());
        inputs = std::move(f->samples);
    } else {
        auto f = read_samples_jsonl(a.data);
        if (!f) return fail(f.error());
        inputs = std::move(f->samples);
        if (a.filter_tries > 0) {
            rl::RolloutParams rp;
            rp.group          = a.filter_tries;
            rp.sampling       = opts.sampling;
            rp.sampling.seed  = stream_seed(opts.seed, Stream::rl_filter);
            rp.prompt         = opts.prompt;
            model::LoraOff base(*policy);  // the reference: the policy without adapters
            auto kept         = rl::filter_always_right(reference ? *reference : *policy, *shared_tok, inputs, rp);
            if (!kept) return fail(kept.error());
            std::vector<Sample> left;
            for (int i : *kept) left.push_back(inputs[size_t(i)]);
            std::fprintf(stderr, "grm rl: filter kept %zu of %zu inputs (dropped those right in all %d reference samples)\n",
                         left.size(), inputs.size(), a.filter_tries);
            inputs = std::move(left);
        }
        auto st = write_file_atomic(inputs_path, [&](std::ostream & out) {
            for (const auto & s : inputs) out << sample_to_json(s).dump() << "\n";
        });
        if (!st) return fail(st.error());
    }
    if (ds->dist && main)
        if (auto st = ds->dist->wait_for_main(); !st) return fail(st.error());
    if (inputs.empty()) return fail(make_error(Errc::invalid_argument, "no inputs left to train on"));

    rl::GrpoTrainer trainer(policy, reference, shared_tok, inputs, opts);
    if (!resume_dir.empty())
        if (auto st = trainer.restore(resume_dir); !st) return fail(st.error());
    if (auto st = trainer.set_dist(ds->dist); !st) return fail(st.error());
    if (main) std::fprintf(stderr, "grm rl: %zu inputs, group %d, %d inputs per step, beta %g, lr %g, steps %lld -> %lld, %d threads\n",
                 inputs.size(), opts.group, opts.inputs_per_step, opts.loss.beta, opts.lr,
                 (long long) trainer.steps_done(), (long long) opts.steps, torch::get_num_threads());
    if (lora->on())
        std::fprintf(stderr, "grm rl: LoRA rank %d, alpha %g on %zu projections; the reference is the frozen base\n",
                     lora->rank, lora->alpha, lora->targets.size());
    rl::GrpoRunOptions run;
    run.out_dir    = a.out;
    run.save_every = a.save_every;
    run.progress   = !a.no_progress && isatty(STDERR_FILENO);
    auto last      = rl::run_grpo(trainer, run);
    if (!last) return fail(last.error());
    if (main) std::fprintf(stderr, "grm rl: step %lld, mean reward %.3f, accuracy %.3f, kl %.4f; checkpoint in %s\n",
                 (long long) last->step, last->mean_reward, last->accuracy, last->kl, a.out.c_str());
    return 0;
}

struct AdaptiveArgs {
    std::string            results;
    scaling::AdaptiveVoteParams params;
    uint64_t               seed = 0;
};

// Replays each judged input's stored trajectories (in sample order) through adaptive_vote and
// compares with fixed voting (and meta-guided voting, when the results carry meta scores) over
// the whole budget; ties are broken at random as in the eval protocol. n = 1 inputs are left out
// (the bound needs a rival).
int adaptive(const AdaptiveArgs & a) {
    auto records = read_results(a.results);
    if (!records) return fail(records.error());
    long   items = 0, skipped = 0, right_adaptive = 0, right_fixed = 0, right_meta = 0, used = 0, with_meta = 0;
    long   by_rule[3] = {0, 0, 0};
    for (size_t i = 0; i < records->size(); ++i) {
        const EvalRecord & r = (*records)[i];
        if (!r.skipped.empty() || r.truth.n < 2 || !r.truth.best) {
            ++skipped;
            continue;
        }
        std::vector<std::vector<int>> stream;
        for (const auto & t : r.trajectories) stream.push_back(t.scores);
        // Graded exactly as grm eval grades voting@max_k (same tie seed), so the lines compare.
        const int      k   = std::min<int>(a.params.max_k, int(r.trajectories.size()));
        const uint64_t tie = tie_seed(a.seed, r.truth.id, k);
        const auto     v   = scaling::adaptive_vote(stream, r.truth.n, a.params);
        ++items;
        used += v.used;
        ++by_rule[int(v.rule)];
        VotedItem av;
        if (std::any_of(stream.begin(), stream.begin() + v.used, [&](const auto & sc) { return int(sc.size()) == r.truth.n; })) {
            av.rewards = v.rewards;
            av.best    = v.best;
        }
        right_adaptive += grade(r.truth, av, tie).random;
        right_fixed += grade(r.truth, vote_record(r, k, 0, false), tie).random;
        if (!r.trajectories.empty() && r.trajectories[0].meta_score) {
            ++with_meta;
            right_meta += grade(r.truth, vote_record(r, k, 0, true), tie).random;
        }
    }
    auto pct = [](long x, long n) { return n > 0 ? 100.0 * double(x) / double(n) : 0.0; };
    std::printf("items: %ld (skipped %ld: n = 1, no best, or not judged)\n", items, skipped);
    std::printf("adaptive (max_k %d, confidence %g, min_k %d): accuracy %.1f%%, mean samples used %.2f\n",
                a.params.max_k, a.params.confidence, a.params.min_k, pct(right_adaptive, items),
                items > 0 ? double(used) / double(items) : 0.0);
    std::printf("stopped by: bound %ld, confidence %ld, budget %ld\n", by_rule[int(scaling::StopRule::bound)],
                by_rule[int(scaling::StopRule::confidence)], by_rule[int(scaling::StopRule::budget)]);
    std::printf("fixed voting@%d: accuracy %.1f%%\n", a.params.max_k, pct(right_fixed, items));
    if (with_meta == items && items > 0) std::printf("meta@%d (k_meta = k/2): accuracy %.1f%%\n", a.params.max_k, pct(right_meta, items));
    return 0;
}

}  // namespace

void register_rl(CLI::App & app) {
    auto * rl_cmd = app.add_subcommand("rl", "SPCT stage 2: GRPO training and adaptive voting");
    rl_cmd->require_subcommand(1);
    auto   ad     = std::make_shared<AdaptiveArgs>();
    auto * adc    = rl_cmd->add_subcommand("adaptive", "replay adaptive voting over a grm eval results.jsonl");
    adc->add_option("--results", ad->results, "results.jsonl of grm eval (K samples per input)")->required();
    adc->add_option("--max-k", ad->params.max_k, "the fixed budget being approximated")->capture_default_str();
    adc->add_option("--confidence", ad->params.confidence, "stop when this share of valid samples agrees (0: bound only)")->capture_default_str();
    adc->add_option("--min-k", ad->params.min_k, "valid samples before the confidence rule may stop")->capture_default_str();
    adc->add_option("--seed", ad->seed, "tie-break seed")->capture_default_str();
    adc->callback([ad]() { std::exit(adaptive(*ad)); });
    register_rl_export(*rl_cmd);

    auto a   = std::make_shared<RlArgs>();
    auto cmd = rl_cmd->add_subcommand("train", "GRPO with the rule-based reward from an RFT checkpoint (resumable)");
    auto & o = a->opts;
    cmd->add_option("--data", a->data, "training inputs (sample JSONL with ground truth)");
    cmd->add_option("--vocab", a->vocab, "GGUF holding the tokenizer")->required();
    cmd->add_option("--init", a->init, "the RFT checkpoint (run dir or step dir): policy start and frozen KL reference")->required();
    cmd->add_option("-o,--out", a->out, "run dir: inputs.jsonl, checkpoints, latest, log.jsonl, plot.svg")->required();
    cmd->add_option("--group", o.group, "rollouts per input (G)")->capture_default_str();
    cmd->add_option("--inputs-per-step", o.inputs_per_step, "inputs per step")->capture_default_str();
    cmd->add_option("--steps", o.steps, "optimizer steps")->capture_default_str();
    cmd->add_option("--lr", o.lr, "learning rate")->capture_default_str();
    cmd->add_option("--warmup", o.warmup, "linear warmup steps")->capture_default_str();
    cmd->add_option("--beta", o.loss.beta, "KL coefficient to the reference")->capture_default_str();
    cmd->add_option("--clip-eps", o.loss.clip_eps, "ratio clip")->capture_default_str();
    cmd->add_option("--epochs", o.epochs, "optimizer passes per rollout set")->capture_default_str();
    cmd->add_option("--micro-batch", o.micro_batch, "rollouts per forward pass")->capture_default_str();
    cmd->add_option("--temperature", o.sampling.temperature, "rollout temperature")->capture_default_str();
    cmd->add_option("--max-new-tokens", o.sampling.max_tokens, "rollout length limit")->capture_default_str();
    cmd->add_option("--seed", o.seed, "input order, shuffles and sampling")->capture_default_str();
    cmd->add_option("--filter-tries", a->filter_tries, "reference samples per input for the always-right filter (0: off)")->capture_default_str();
    cmd->add_option("--principles", a->principles, "prompt with principles (false: the no-principles ablation; kept on --resume)")->capture_default_str();
    add_lora_flags(*cmd, a->lora);
    cmd->add_option("--threads", a->threads, "libtorch threads")->capture_default_str();
    cmd->add_option("--save-every", a->save_every, "steps between checkpoints")->capture_default_str();
    cmd->add_option("--device", a->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
    cmd->add_flag("--resume", a->resume, "continue the run in --out");
    cmd->add_flag("--no-progress", a->no_progress, "no progress bar");
    add_dist_flags(cmd, a->dist);
    cmd->callback([a, cmd]() {
        if (!a->resume && a->data.empty()) throw CLI::ValidationError("--data", "required unless --resume");
        std::exit(run(*a, *cmd));
    });
}

}  // namespace grm::cli
