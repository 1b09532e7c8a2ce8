// Test fixtures shared by the test binaries: tiny real GGUF models written by grm itself,
// temp directories, free loopback ports and the llama.cpp install prefix.
#pragma once

#include "common/random_model.h"
#include "gguf/gguf_llama.h"

#include <string>

namespace grm::test {

// A fresh temporary directory, removed at process exit.
std::string temp_dir();
LlamaConfig default_tiny_config();
// A random-weight Llama GGUF (byte-level vocab, ChatML template) with the given config, written
// once per process per (config, seed). f32 weights.
std::string tiny_model(const LlamaConfig & config = default_tiny_config(), uint64_t seed = 42);
// A 1-layer model whose attention and MLP output nothing and whose logits are a bigram table:
// any token -> "\", then "\" -> "b" -> "o" -> "x" -> "e" -> "d" -> "{" -> "7" -> "}" -> </s>.
// Whatever the prompt, it answers "\boxed{7}" (a valid single-response judgment, score 7).
std::string boxed_seven_model();
// The same for any box text whose characters are distinct and not in "\boxed{}" ("12" answers
// "\boxed{12}"); a fresh file per call.
std::string boxed_model(const std::string & box);
// Random weights (grm::random_llama_model) with a context large enough for the judge prompt.
std::string random_judge_model();
// A free TCP port on 127.0.0.1.
int free_port();
// Directory holding llama-server (from GRM_LLAMA_PREFIX at configure time).
std::string llama_bin_dir();
// The build folder: $GRM_BUILD_DIR (CTest sets it), else the folder these tests were built in, so
// a test binary run by hand finds the programs too.
std::string build_dir();
// The path of a program built there, e.g. "tools/grm/grm". Throws std::runtime_error naming the
// path when it is missing: a test that needs it fails loudly instead of skipping.
std::string built_program(const std::string & relative_path);

}  // namespace grm::test
