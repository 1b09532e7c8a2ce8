// JSON form of a judgment, shared by `grm score --json`, the server and the eval results files.
#pragma once

#include "core/judge.h"

#include <nlohmann/json.hpp>

namespace grm {

nlohmann::json trajectory_to_json(const Trajectory & t);
// {"id", "rewards", "best", "n_valid", "n_voted", "unscorable": {reason: count}, "samples": [...]}
nlohmann::json judgment_to_json(const Sample & s, const Judgment & j, bool with_samples = true);

}  // namespace grm
