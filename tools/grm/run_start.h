// How a training subcommand starts: --resume continues the run in `out` from its latest
// checkpoint with the options saved there (the schedule, seeds and data order; only the last step
// may move), otherwise a fresh run with the given options, refused when `out` already holds one.
#pragma once

#include "core/error.h"
#include "model/checkpoint.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace grm::cli {

template <class Options> struct RunStart {
    Options               opts;
    std::string           resume_dir;  // empty for a fresh run
    model::CheckpointMeta meta;        // the resumed checkpoint's config and options
};

// from_json: the options type's reader (model::train_options_from_json, rl::grpo_options_from_json).
template <class Options>
Result<RunStart<Options>> start_run(const std::string & out, bool resume, const Options & given, bool steps_given,
                                    Result<Options> (*from_json)(const nlohmann::json &)) {
    RunStart<Options> s;
    s.opts = given;
    if (!resume) {
        if (std::filesystem::exists(std::filesystem::path(out) / "latest"))
            return make_error(Errc::invalid_argument, out + " already holds a run; use --resume or another --out");
        return s;
    }
    auto dir = model::resolve_checkpoint(out);
    if (!dir) return dir.error();
    auto meta = model::read_checkpoint_meta(*dir);
    if (!meta) return meta.error();
    auto saved = from_json(meta->train_options);
    if (!saved) return saved.error();
    s.opts = *saved;
    if (steps_given) s.opts.steps = given.steps;
    s.resume_dir = *dir;
    s.meta       = *meta;
    return s;
}

}  // namespace grm::cli
