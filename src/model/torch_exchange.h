// Files exchanged with a PyTorch trainer (scripts/train_torch.py): grm tokenizes the data, PyTorch
// trains on whatever accelerator it has, grm imports the weights and goes on (export, eval, RL).
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"
#include "model/dataset.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace grm::model {

// Token file, little-endian:
//   "GRMTOK01"  8 bytes magic
//   u32 width   bytes per token id: 2 when n_vocab <= 65536, else 4
//   u32 n_vocab
//   u64 n_examples, u64 n_tokens
//   u32 length[n_examples], u32 n_prompt[n_examples]
//   ids[n_tokens] (u16 or i32), the examples' tokens one after another
// Loss is on the targets after the prompt (tokens[n_prompt..]); per-token weights are not stored.
// Written to a temp file and renamed: no partial file is left on failure.
Status write_token_file(const std::string & path, const std::vector<Example> & examples, int32_t n_vocab);
Result<std::vector<Example>> read_token_file(const std::string & path);

// Raw parameter directory: DIR/manifest.json {"config": {LlamaConfig}, "params": [{"name", "shape"}]}
// and DIR/weights.bin, every parameter as f32 little-endian (torch layout, row-major), concatenated in
// manifest order. Names are the GGUF tensor names that Transformer registers (token_embd.weight, ...).
Result<LlamaConfig> read_raw_params_config(const std::string & dir);
// Copies the weights into `model`, whose parameters must match the manifest in names, order and shapes.
Status load_raw_params(const std::string & dir, torch::nn::Module & model);
Status write_raw_params(const std::string & dir, const LlamaConfig & cfg, torch::nn::Module & model);

}  // namespace grm::model
