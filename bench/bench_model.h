// The model the judging benchmarks run on when no --model is given: a random 20.4 M-parameter F32
// Llama (7 layers of width 512, GQA 8/4 heads, SwiGLU 1376, 2,048-token context), seed 1.
#pragma once

#include "common/random_model.h"
#include "gguf/gguf_llama.h"

#include <cstdio>
#include <string>

namespace grm::bench {

// Writes it to dir/bench-20m.gguf and returns that path; "" after printing why it could not.
inline std::string write_bench_model(const std::string & dir) {
    LlamaConfig c;
    c.n_ctx = 2048, c.n_embd = 512, c.n_layer = 7, c.n_head = 8, c.n_head_kv = 4, c.n_ff = 1376;
    const std::string path = dir + "/bench-20m.gguf";
    if (auto st = write_gguf_llama(path, random_llama_model(c, 1)); !st) {
        std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
        return "";
    }
    return path;
}

}  // namespace grm::bench
