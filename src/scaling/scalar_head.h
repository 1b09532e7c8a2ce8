// The scalar head of an exported RM (meta RM or Bradley-Terry) and its sidecar file
// <model>.gguf.head.json ({"kind", "n_embd", "weight": [d], "bias"}); the backbone is a plain GGUF.
// An imported meta RM (DeepSeek-GRM-27B-MetaRM) also records its input layout: "chat": true and
// "prompt": the text of a template file (core/prompt.h), whose user turn the scorer renders.
#pragma once

#include "core/error.h"

#include <string>
#include <vector>

namespace grm::scaling {

struct ScalarHead {
    std::string        kind = "meta";  // "meta" or "bt"
    std::vector<float> weight;         // [d]
    float              bias = 0.0f;
    // Chat layout: the user turn is `prompt` rendered, the assistant turn the trajectory, both
    // through the GGUF's chat template. Off: the plain meta_rm_text (grm's own meta RMs).
    bool               chat = false;
    std::string        prompt;  // template file text (core/prompt.h), when chat

    // weight . h + bias for one final-norm hidden state h [d].
    double apply(const float * h) const;
};

std::string        head_path(const std::string & gguf_path);
Status             save_head(const std::string & path, const ScalarHead & h);
Result<ScalarHead> load_head(const std::string & path);

}  // namespace grm::scaling
