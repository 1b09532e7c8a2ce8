// LoRA adapter GGUF files as llama.cpp loads them (llama_adapter_lora_init, `--lora`): general.type
// "adapter", adapter.type "lora", adapter.lora.alpha, the base model's general.architecture, and
// per adapted weight W [out, in] of the base the pair "<W's name>.lora_a" [r, in] and ".lora_b"
// [out, r] (torch layout; ggml ne {in, r} and {r, out}). llama.cpp adds scale * alpha / r * B (A x)
// to W x, scale being the user's (1 by default).
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"

#include <string>
#include <vector>

namespace grm {

struct GgufLoraAdapter {
    std::string              arch;  // the base model's general.architecture ("llama", "qwen2")
    float                    alpha = 0.0f;
    std::string              name  = "grm-lora";
    std::vector<NamedTensor> tensors;  // f32, torch layout
};

// Writes atomically (temp file + rename), f32; every tensor's name must end in .lora_a or .lora_b.
Status write_gguf_lora(const std::string & path, const GgufLoraAdapter & a);

// Reads an adapter file back (f32 or f16 tensors, as f32); errors as check_gguf_lora's file checks.
Result<GgufLoraAdapter> read_gguf_lora(const std::string & path);

// Checks an adapter file against the base model's GGUF before llama.cpp loads it (llama.cpp only
// logs why it refuses one): errors name what is wrong: not a GGUF file, not a LoRA adapter
// (general.type, adapter.type), another architecture than the base's, a tensor that is not a
// .lora_a/.lora_b, a pair missing its other half, a tensor the base model does not have, a shape
// that does not fit the base tensor or its partner (ranks that differ).
Status check_gguf_lora(const std::string & adapter_path, const std::string & base_path);

}  // namespace grm
