// The one flag layer for data-parallel training (`grm train`, `grm rl train`, `grm meta train`,
// `grm bt train`): --nproc N launches N local ranks of the same command; RANK / WORLD_SIZE /
// MASTER_ADDR / MASTER_PORT (torchrun's variables) join a job started any other way.
#pragma once

#include "core/error.h"
#include "model/dist.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

namespace grm::cli {

struct DistArgs {
    int    nproc     = 1;
    double timeout_s = 300;  // Gloo and rendezvous timeout (GRM_DIST_TIMEOUT when the flag is not given)
};

void add_dist_flags(CLI::App * cmd, DistArgs & a);

struct DistStart {
    std::optional<int>           exit_code;  // set: this process was the --nproc launcher, its job is over
    std::shared_ptr<model::Dist> dist;       // set: a rank of a job of world > 1
    bool main() const { return !dist || dist->main(); }
};

// Call first in the subcommand: launches (--nproc > 1 outside a job), joins (WORLD_SIZE > 1), or
// neither (one process). `who` prefixes the launcher's messages ("grm train").
Result<DistStart> start_dist(const DistArgs & a, const CLI::App & cmd, const std::string & who);

}  // namespace grm::cli
