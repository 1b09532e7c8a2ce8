// Checkpoints: model weights, optimizer state, RNG state and data position plus a versioned
// meta.json, written as a directory that appears atomically (temp dir + rename).
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"
#include "model/config.h"
#include "model/dataset.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>

namespace grm::model {

// Bump when the layout of a checkpoint directory or meta.json changes incompatibly.
constexpr int k_checkpoint_schema = 1;

struct CheckpointMeta {
    int            schema = k_checkpoint_schema;
    std::string    kind   = "lm";  // "lm" (Transformer) or "scalar" (ScalarHeadModel)
    LlamaConfig    config;
    LoraParams     lora;             // rank 0: no adapters ("lora" written only when on)
    int64_t        step        = 0;  // optimizer steps done
    int64_t        tokens_seen = 0;  // trained target tokens so far
    DataPosition   data;             // the next batch
    uint64_t       data_fingerprint = 0;
    nlohmann::json train_options    = nlohmann::json::object();
};

nlohmann::json         meta_to_json(const CheckpointMeta & m);
Result<CheckpointMeta> meta_from_json(const nlohmann::json & j);

// Directory contents: model.pt (torch::save of the module), optimizer.pt (when opt is given),
// rng.pt (the CPU default generator's state), meta.json. An existing dir is replaced.
Status save_checkpoint(const std::string & dir, torch::nn::Module & model, torch::optim::Optimizer * opt,
                       const CheckpointMeta & meta);

Result<CheckpointMeta> read_checkpoint_meta(const std::string & dir);
// model must have the checkpoint's structure (same kind and config); loads onto the model's device.
Status load_checkpoint_model(const std::string & dir, torch::nn::Module & model);
// Everything a resumed run continues from: the weights, the optimizer's moments and the CPU RNG
// state (so a resumed run is bit-identical to an uninterrupted one).
Status load_checkpoint_state(const std::string & dir, torch::nn::Module & model, torch::optim::Optimizer & opt);

// Run directories hold step-NNNNNNN checkpoints and a "latest" file naming the newest. Given a run
// dir this returns its latest checkpoint dir; given a checkpoint dir (has meta.json), itself.
Result<std::string> resolve_checkpoint(const std::string & path);
// Writes <run_dir>/latest atomically, naming checkpoint dir `name`.
Status set_latest(const std::string & run_dir, const std::string & name);

}  // namespace grm::model
