// Importing a Hugging Face sequence-classification RM as a grm meta RM: the released
// DeepSeek-GRM-27B-MetaRM is Gemma2ForSequenceClassification, one logit = score.weight [1, hidden]
// (+ score.bias [1] when present) on the final-norm hidden state of the last token, which is what
// LlamaScalarRm computes from the backbone GGUF (converted by llama.cpp) and a "meta" head file.
#pragma once

#include "core/error.h"
#include "scaling/scalar_head.h"

#include <string>

namespace grm::scaling {

// The head of the checkpoint in `dir` (config.json + model.safetensors or its shards): checks
// num_labels == 1 (num_labels or id2label; absent: not checked) and score.weight's shape against
// hidden_size. Errors name the problem: no score.weight (listing the head-like tensors there are),
// a wrong shape, an unsupported dtype, a malformed safetensors file.
Result<ScalarHead> read_hf_score_head(const std::string & dir);

struct MetaImport {
    std::string hf_dir;    // the checkpoint (config.json + safetensors)
    std::string gguf;      // its backbone, converted by llama.cpp; the head goes to gguf + ".head.json"
    std::string template_path;  // optional: the meta prompt template -> chat layout (scalar_head.h)
};

// Reads the head, checks its width against the GGUF's n_embd (the GGUF must load in llama.cpp,
// and with a template have a chat template) and writes the head file atomically.
Result<ScalarHead> import_hf_meta_rm(const MetaImport & m);

}  // namespace grm::scaling
