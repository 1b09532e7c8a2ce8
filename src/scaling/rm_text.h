// Plain (non-chat) texts the scalar RMs read: the meta RM's (query, responses, trajectory) and the
// Bradley-Terry RM's (query, one response). Shared by training (libtorch) and inference (llama.cpp)
// so both see the same tokens.
#pragma once

#include "core/sample.h"

#include <cstdint>
#include <string>
#include <vector>

namespace grm::scaling {

// Responses in the trajectory's shown order (order[p] = original index), numbered as the
// trajectory refers to them, then the trajectory text.
std::string meta_rm_text(const Sample & s, const std::vector<int> & order, const std::string & trajectory);

// Earlier turns (if any), the query and one response.
std::string bt_rm_text(const Sample & s, int response);

// Keeps a token sequence within n_ctx: the first token (BOS) and the last n_ctx - 1 tokens, since
// the verdict the scorer needs is at the end of a trajectory.
std::vector<int32_t> fit_context(const std::vector<int32_t> & tokens, int n_ctx);

}  // namespace grm::scaling
