// Engine construction from user options: a GGUF path selects the in-process llama.cpp engine,
// an http(s) URL (or a comma-separated list of them) the OpenAI-compatible client.
#pragma once

#include "core/engine.h"
#include "engines/llama_engine.h"
#include "engines/openai_engine.h"

#include <memory>
#include <string>
#include <vector>

namespace grm {

// Which engine and its parameters: each engine's own struct, with its own defaults (no copies).
struct EngineOptions {
    std::string        model;   // path to a .gguf, or "http://host:port[,http://host2:port]"; empty = default model
    LlamaEngineParams  llama;   // when `model` is a GGUF file
    OpenAIEngineParams openai;  // when `model` is URL(s): endpoints are taken from `model`
};

Result<std::unique_ptr<Engine>> make_engine(const EngineOptions & options);

// The embedded default GRM shipped in models/ (used when no model is given; GRM_MODEL overrides).
std::string default_model_path();
// The default meta RM shipped beside it (`--meta default`; GRM_META overrides): trained on the
// default's backbone, so its head reads that model's hidden states.
std::string default_meta_path();
// `--meta` as given: "default" names default_meta_path(), anything else is a path.
std::string resolve_meta_path(const std::string & meta);

}  // namespace grm
