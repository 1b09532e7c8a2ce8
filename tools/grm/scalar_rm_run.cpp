#include "scalar_rm_run.h"

#include "lora_flags.h"
#include "run_start.h"

#include "model/checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <unistd.h>

namespace grm::cli {

void add_scalar_rm_flags(CLI::App * cmd, ScalarRmArgs & a, const std::string & name, const std::string & per_step) {
    cmd->add_option("--vocab", a.vocab, "GGUF holding the tokenizer")->required();
    cmd->add_option("--init", a.init, "GRM checkpoint whose backbone the RM starts from")->required();
    cmd->add_option("-o,--out", a.out, "run dir: checkpoints, log.jsonl, " + name + ".gguf")->required();
    cmd->add_option("--export", a.exported, "where to write the GGUF (default: OUT/" + name + ".gguf)");
    cmd->add_option("--steps", a.opts.steps, "optimizer steps")->capture_default_str();
    cmd->add_option("--batch", a.opts.batch, per_step + " per step")->capture_default_str();
    cmd->add_option("--lr", a.opts.lr, "peak learning rate")->capture_default_str();
    cmd->add_option("--warmup", a.opts.warmup, "warmup steps")->capture_default_str();
    cmd->add_option("--seed", a.opts.seed, "head init and data order")->capture_default_str();
    add_lora_flags(*cmd, a.lora);
    cmd->add_option("--threads", a.threads, "libtorch threads")->capture_default_str();
    cmd->add_option("--save-every", a.save_every, "steps between checkpoints")->capture_default_str();
    cmd->add_flag("--resume", a.resume, "continue the run in --out");
    cmd->add_flag("--no-progress", a.no_progress, "no progress bar");
    add_dist_flags(cmd, a.dist);
}

Result<ScalarRmStart> start_scalar_rm(const ScalarRmArgs & a, const CLI::App & cmd, const std::string & name) {
    auto ds = start_dist(a.dist, cmd, "grm " + name + " train");
    if (!ds) return ds.error();
    if (ds->exit_code) {
        ScalarRmStart s;
        s.exit_code = ds->exit_code;
        return s;
    }
    if (a.threads > 0) torch::set_num_threads(a.threads);
    auto tok = LlamaModel::load(a.vocab, /*vocab_only=*/true);
    if (!tok) return tok.error();
    auto start = start_run(a.out, a.resume, a.opts, cmd.count("--steps") > 0, model::train_options_from_json);
    if (!start) return start.error();
    auto lora = run_lora(cmd, a.lora, a.resume, start->meta);
    if (!lora) return lora.error();
    auto init_dir = model::resolve_checkpoint(a.init);
    if (!init_dir) return init_dir.error();
    auto init_meta = model::read_checkpoint_meta(*init_dir);
    if (!init_meta) return init_meta.error();

    ScalarRmStart s{std::move(*tok), start->opts, init_meta->config, {}, {}};
    s.job.run.dist       = ds->dist;
    s.job.init_dir       = *init_dir;
    s.job.resume_dir     = start->resume_dir;
    s.job.vocab_path     = a.vocab;
    s.job.export_path    = a.exported.empty() ? (std::filesystem::path(a.out) / (name + ".gguf")).string() : a.exported;
    s.job.run.out_dir    = a.out;
    s.job.run.save_every = a.save_every;
    s.job.run.progress   = !a.no_progress && isatty(STDERR_FILENO) && s.main();
    s.job.lora           = *lora;
    return s;
}

}  // namespace grm::cli
