// `grm train`: trains the in-house Llama-family model on a text or JSONL corpus, resumably.
#include "commands.h"
#include "dist_flags.h"
#include "lora_flags.h"
#include "run_start.h"

#include "core/seed.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "llama/llama_model.h"
#include "model/trainer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace grm::cli {

namespace {

struct TrainArgs {
    std::string         data, vocab, config, out, init, device = "auto";
    model::TrainOptions opts;
    model::LoraParams   lora;
    int                 threads    = 0;
    int64_t             save_every = 500;
    bool                resume     = false;
    bool                no_progress = false;
    std::vector<std::string> emphasis;  // REGEX WEIGHT pairs
    DistArgs                 dist;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm train: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(TrainArgs & a, const CLI::App & cmd) {
    namespace fs = std::filesystem;
    auto ds = start_dist(a.dist, cmd, "grm train");
    if (!ds) return fail(ds.error());
    if (ds->exit_code) return *ds->exit_code;
    const bool main = ds->main();
    if (a.threads > 0) torch::set_num_threads(a.threads);
    torch::Device device(torch::kCPU);
    if (a.device == "cuda" || (a.device == "auto" && torch::cuda::is_available())) device = torch::Device(torch::kCUDA);

    auto tok = LlamaModel::load(a.vocab, /*vocab_only=*/true);
    if (!tok) return fail(tok.error());

    for (size_t i = 0; i + 1 < a.emphasis.size(); i += 2) {
        const std::string & regex = a.emphasis[i];
        float               weight = 0.0f;
        try {
            weight = std::stof(a.emphasis[i + 1]);
        } catch (const std::exception &) {
        }
        if (!(weight > 0.0f))
            return fail(make_error(Errc::invalid_argument, "--emphasis '" + regex + "': the weight '" +
                                                               a.emphasis[i + 1] + "' is not a positive number"));
        a.opts.emphasis.push_back({regex, weight});
    }
    if (a.resume && !a.emphasis.empty())
        return fail(make_error(Errc::invalid_argument, "--emphasis is the run's own: --resume keeps the checkpoint's"));
    auto start = start_run(a.out, a.resume, a.opts, cmd.count("--steps") > 0, model::train_options_from_json);
    if (!start) return fail(start.error());
    const model::TrainOptions opts       = start->opts;
    auto                      lora       = run_lora(cmd, a.lora, a.resume, start->meta);
    if (!lora) return fail(lora.error());
    const std::string         resume_dir = start->resume_dir;
    LlamaConfig               cfg        = start->meta.config;
    if (!a.resume) {
        if (a.config.empty()) return fail(make_error(Errc::invalid_argument, "--config is required unless --resume"));
        // n_vocab may be left out (or 0): it is then the tokenizer's.
        std::ifstream in(a.config);
        if (!in) return fail(make_error(Errc::not_found, "cannot open config " + a.config));
        nlohmann::json j;
        try {
            in >> j;
        } catch (const nlohmann::json::exception & e) {
            return fail(make_error(Errc::invalid_argument, a.config + ": " + e.what()));
        }
        if (j.is_object() && j.value("n_vocab", 0) == 0) j["n_vocab"] = (*tok)->n_vocab();
        auto c = model::config_from_json(j);
        if (!c) return fail(c.error());
        cfg = *c;
    }
    if (cfg.n_vocab != (*tok)->n_vocab())
        return fail(make_error(Errc::invalid_argument, "config n_vocab " + std::to_string(cfg.n_vocab) +
                                                           " differs from the vocab's " + std::to_string((*tok)->n_vocab())));
    if (opts.seq > cfg.n_ctx)
        return fail(make_error(Errc::invalid_argument, "--seq exceeds the model's n_ctx " + std::to_string(cfg.n_ctx)));

    model::TokenizeStats ts;
    auto                 examples = model::load_examples(a.data, **tok, &ts, opts.emphasis);
    if (!examples) return fail(examples.error());
    const uint64_t fp   = model::examples_fingerprint(*examples);
    auto           data = std::make_shared<model::PackedDataset>(std::move(*examples), opts.batch, opts.seq, opts.seed);

    model::Transformer net(cfg);
    net->init_weights(opts.seed);
    if (!a.init.empty() && !a.resume) {
        auto dir = model::resolve_checkpoint(a.init);
        if (!dir) return fail(dir.error());
        if (auto st = model::init_from_checkpoint(*dir, net); !st) return fail(st.error());
    }
    if (lora->on()) net->add_lora(*lora, stream_seed(opts.seed, Stream::lora_init));
    net->to(device);
    model::LmTrainer trainer(net, data, opts);
    trainer.set_data_fingerprint(fp);
    if (!resume_dir.empty())
        if (auto st = trainer.restore(resume_dir, fp); !st) return fail(st.error());
    if (auto st = trainer.set_dist(ds->dist); !st) return fail(st.error());

    std::error_code ec;
    fs::create_directories(a.out, ec);
    if (main)
        if (auto st = model::save_config((fs::path(a.out) / "config.json").string(), cfg); !st) return fail(st.error());
    if (main) std::fprintf(stderr,
                 "grm train: %lld parameters, %lld examples (%lld tokens, %lld windows), %lld x %lld x accum %lld "
                 "per step, %s, %d threads, from step %lld to %lld\n",
                 (long long) model::parameter_count(cfg), (long long) ts.examples, (long long) ts.tokens,
                 (long long) data->units(), (long long) opts.batch, (long long) opts.seq, (long long) opts.accum,
                 device.str().c_str(), torch::get_num_threads(), (long long) trainer.steps_done(),
                 (long long) opts.steps);
    if (ds->dist && main)
        std::fprintf(stderr, "grm train: %d ranks, each forwards its share of every micro-batch's %lld rows\n",
                     ds->dist->world(), (long long) opts.batch);
    if (lora->on() && main) {
        int64_t n = 0;
        for (const auto & p : net->parameters()) n += p.requires_grad() ? p.numel() : 0;
        std::fprintf(stderr, "grm train: LoRA rank %d, alpha %g on %zu projections: %lld trained parameters, the base frozen\n",
                     lora->rank, lora->alpha, lora->targets.size(), (long long) n);
    }
    if (!opts.emphasis.empty() && main)
        std::fprintf(stderr, "grm train: --emphasis weights %lld completion tokens (%lld completions not aligned, unweighted)\n",
                     (long long) ts.emphasized, (long long) ts.unaligned);

    model::RunOptions run;
    run.out_dir    = a.out;
    run.save_every = a.save_every;
    run.progress   = !a.no_progress && isatty(STDERR_FILENO);
    auto last      = model::run_training(trainer, run);
    if (!last) return fail(last.error());
    if (main) std::fprintf(stderr, "grm train: step %lld, loss %.4f, %lld target tokens seen; checkpoint in %s\n",
                 (long long) last->step, last->loss, (long long) trainer.tokens_seen(), a.out.c_str());
    return 0;
}

}  // namespace

void register_train(CLI::App & app) {
    auto   a   = std::make_shared<TrainArgs>();
    auto * cmd = app.add_subcommand("train", "train the in-house model on a .txt or .jsonl corpus (resumable)");
    auto & o   = a->opts;
    cmd->add_option("--data", a->data, ".jsonl lines {\"prompt\",\"completion\"} (loss on the completion) or "
                                       "{\"text\"}; other files: one document per line")->required();
    cmd->add_option("--vocab", a->vocab, "GGUF holding the tokenizer (vocab-only or a model)")->required();
    cmd->add_option("--config", a->config, "model config JSON (n_ctx, n_embd, n_layer, n_head, n_head_kv, n_ff, ...; n_vocab defaults to the vocab's)");
    cmd->add_option("-o,--out", a->out, "run directory: checkpoints, latest, log.jsonl, config.json")->required();
    cmd->add_option("--init", a->init, "start from this checkpoint's weights (a fresh optimizer and schedule)");
    cmd->add_option("--steps", o.steps, "optimizer steps of the schedule")->capture_default_str();
    cmd->add_option("--batch", o.batch, "rows per micro-batch")->capture_default_str();
    cmd->add_option("--seq", o.seq, "tokens per row (documents are packed)")->capture_default_str();
    cmd->add_option("--accum", o.accum, "micro-batches per optimizer step")->capture_default_str();
    cmd->add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
    cmd->add_option("--min-lr-ratio", o.min_lr_ratio, "cosine floor as a fraction of --lr")->capture_default_str();
    cmd->add_option("--warmup", o.warmup, "linear warmup steps")->capture_default_str();
    cmd->add_option("--weight-decay", o.weight_decay, "AdamW weight decay on matrices")->capture_default_str();
    cmd->add_option("--clip", o.clip, "max gradient norm (0: off)")->capture_default_str();
    cmd->add_option("--seed", o.seed, "seed for weights and data order")->capture_default_str();
    cmd->add_option("--emphasis", a->emphasis,
                    "REGEX WEIGHT: completion tokens overlapping a match of REGEX (ECMAScript) weigh WEIGHT in the "
                    "loss; repeatable; kept for --resume")
        ->type_size(2);
    add_lora_flags(*cmd, a->lora);
    cmd->add_option("--threads", a->threads, "CPU threads for libtorch (0: libtorch's default)")->capture_default_str();
    cmd->add_option("--save-every", a->save_every, "steps between checkpoints")->capture_default_str();
    cmd->add_option("--device", a->device, "cpu, cuda or auto")->check(CLI::IsMember({"auto", "cpu", "cuda"}))->capture_default_str();
    cmd->add_flag("--resume", a->resume, "continue the run in --out from its latest checkpoint (bit-identical)");
    cmd->add_flag("--no-progress", a->no_progress, "no progress bar on stderr");
    add_dist_flags(cmd, a->dist);
    cmd->callback([a, cmd]() { std::exit(run(*a, *cmd)); });
}

}  // namespace grm::cli
