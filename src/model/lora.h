// LoRA on the libtorch decoder beyond the forward (TransformerImpl::add_lora): the base weights with
// the adapters merged in, a LoRA checkpoint as a plain model, the adapters as a llama.cpp LoRA
// adapter GGUF, and the adapters switched off for a scope (GRPO's KL reference).
#pragma once

#include "core/error.h"
#include "gguf/gguf_lora.h"
#include "model/transformer.h"

#include <string>
#include <utility>
#include <vector>

namespace grm::model {

// blk.N.attn_q.lora_a / .lora_b
bool is_lora_parameter(const std::string & name);

// The model's parameters without its adapters, detached, in registration order; with merged, each
// adapted weight is W + (alpha / r) B A (what export writes), otherwise the frozen base W.
std::vector<std::pair<std::string, torch::Tensor>> base_parameters(TransformerImpl & m, bool merged = true);

// An LM checkpoint's weights as a plain Transformer (no adapters): a LoRA checkpoint's merged.
// What --init of every trainer starts from.
Result<Transformer> load_merged_lm(const std::string & dir);

// The adapters under llama.cpp's names (blk.N.attn_q.weight.lora_a [r, in], .lora_b [out, r]) with
// adapter.lora.alpha and the model's architecture: the base GGUF plus this file (llama.cpp's
// --lora, grm's engine --lora) computes what the model computes. Error: a model without adapters.
Result<GgufLoraAdapter> to_gguf_lora(TransformerImpl & m);
Status                  export_lora_adapter(TransformerImpl & m, const std::string & path);

// Adapters off while in scope (the base model's forward); on again after.
class LoraOff {
  public:
    explicit LoraOff(TransformerImpl & m) : m_(m) { m_.set_lora_enabled(false); }
    ~LoraOff() { m_.set_lora_enabled(true); }
    LoraOff(const LoraOff &)             = delete;
    LoraOff & operator=(const LoraOff &) = delete;

  private:
    TransformerImpl & m_;
};

}  // namespace grm::model
