// What `grm bt train` and `grm meta train` share: a scalar-head RM trained on a GRM backbone. The
// same flags (backbone, run dir, schedule, export) and the same start: the tokenizer, the options
// (fresh or resumed), the backbone's shape and the job that trains and exports it.
#pragma once

#include "core/error.h"
#include "dist_flags.h"
#include "llama/llama_model.h"
#include "model/trainer.h"
#include "rl/scalar_rm.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace grm::cli {

struct ScalarRmArgs {
    // Fine-tuning a trained backbone: a tenth of pretraining's peak rate, half its warmup.
    static model::TrainOptions schedule() {
        model::TrainOptions o;
        o.lr     = 1e-4;
        o.warmup = 50;
        return o;
    }

    std::string         vocab, init, out, exported;
    model::TrainOptions opts = schedule();
    model::LoraParams   lora;
    int                 threads    = 1;
    int64_t             save_every = 100;
    bool                resume = false, no_progress = false;
    DistArgs            dist;
};

// The shared flags (the data-parallel ones included); `name` is the exported file's stem (OUT/<name>.gguf), `per_step` what a batch holds.
void add_scalar_rm_flags(CLI::App * cmd, ScalarRmArgs & a, const std::string & name, const std::string & per_step);

struct ScalarRmStart {
    std::shared_ptr<LlamaModel> tok;  // vocab only
    model::TrainOptions         opts;
    LlamaConfig                 cfg;  // the --init backbone's shape
    rl::ScalarRmJob             job;       // job.run.dist: this rank's job (null: one process); job.lora: the flags', or the resumed checkpoint's
    std::optional<int>          exit_code;  // set: the --nproc launcher, whose ranks have finished
    bool main() const { return !job.run.dist || job.run.dist->main(); }
};

Result<ScalarRmStart> start_scalar_rm(const ScalarRmArgs & a, const CLI::App & cmd, const std::string & name);

}  // namespace grm::cli
