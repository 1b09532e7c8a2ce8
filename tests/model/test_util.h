// Shared helpers for the model tests: tiny configs, synthetic examples, temporary directories.
#pragma once

#include "gguf/gguf_llama.h"
#include "model/dataset.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace grm::model::test {

// arch qwen2 also sets qkv_bias and Qwen2's rope theta of 1e6.
inline LlamaConfig tiny_config(int n_vocab, bool gqa, bool tied, Arch arch = Arch::llama) {
    LlamaConfig c;
    c.arch            = arch;
    c.qkv_bias        = arch == Arch::qwen2;
    c.rope_theta      = arch == Arch::qwen2 ? 1e6f : 10000.0f;
    c.n_vocab         = n_vocab;
    c.n_ctx           = 64;
    c.n_embd          = 32;
    c.n_layer         = 2;
    c.n_head          = 4;
    c.n_head_kv       = gqa ? 2 : 4;
    c.n_ff            = 64;
    c.tied_embeddings = tied;
    return c;
}

// Llama 3.1's rope_freqs.weight as llama.cpp's convert_hf_to_gguf.py computes it from the HF
// rope_scaling {factor, low_freq_factor, high_freq_factor, original_max_position_embeddings}: pairs
// with a wavelength under orig_ctx / high keep 1, over orig_ctx / low get `factor`, a smooth blend between.
inline std::vector<float> llama31_rope_factors(const LlamaConfig & c, double factor, double low, double high, double orig_ctx) {
    std::vector<float> out;
    for (int i = 0; i < c.head_dim(); i += 2) {
        const double freq    = 1.0 / std::pow(double(c.rope_theta), double(i) / c.head_dim());
        const double wavelen = 2.0 * M_PI / freq;
        if (wavelen < orig_ctx / high) out.push_back(1.0f);
        else if (wavelen > orig_ctx / low) out.push_back(float(factor));
        else {
            const double smooth = (orig_ctx / wavelen - low) / (high - low);
            out.push_back(float(1.0 / ((1.0 - smooth) / factor + smooth)));
        }
    }
    return out;
}

// Examples of random tokens in [3, n_vocab) after a BOS of 1, lengths in [min_len, max_len],
// half of them with a prompt part (n_prompt > 0).
inline std::vector<Example> random_examples(int n, int n_vocab, int min_len, int max_len, uint64_t seed) {
    std::mt19937_64      rng(seed);
    std::vector<Example> out;
    for (int i = 0; i < n; ++i) {
        Example e;
        const int len = min_len + int(rng() % uint64_t(max_len - min_len + 1));
        e.tokens.push_back(1);
        for (int j = 1; j < len; ++j) e.tokens.push_back(3 + int(rng() % uint64_t(n_vocab - 3)));
        e.n_prompt = (i % 2 == 1) ? len / 2 : 0;
        out.push_back(std::move(e));
    }
    return out;
}

// Examples with a learnable pattern (counting up modulo a cycle) so a tiny model gets confident.
inline std::vector<Example> pattern_examples(int n, int n_vocab, int len, uint64_t seed) {
    std::mt19937_64      rng(seed);
    std::vector<Example> out;
    const int            cycle = std::min(n_vocab - 3, 12);
    for (int i = 0; i < n; ++i) {
        Example e;
        e.tokens.push_back(1);
        int v = int(rng() % uint64_t(cycle));
        for (int j = 1; j < len; ++j, v = (v + 1) % cycle) e.tokens.push_back(3 + v);
        out.push_back(std::move(e));
    }
    return out;
}

// A fresh directory removed on destruction.
class TempDir {
  public:
    explicit TempDir(const std::string & tag) {
        path_ = std::filesystem::temp_directory_path() /
                ("grm-model-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string str() const { return path_.string(); }
    std::string operator/(const std::string & name) const { return (path_ / name).string(); }

  private:
    static int & counter() {
        static int c = 0;
        return c;
    }
    std::filesystem::path path_;
};

}  // namespace grm::model::test
