// Llama-family decoder as libtorch modules: RMSNorm, rotary embeddings (adjacent pairs for llama, NEOX
// for qwen2), grouped-query attention with optional q/k/v biases (qwen2), SwiGLU; parameter names are
// the GGUF tensor names (token_embd.weight, blk.N.attn_q.weight, blk.N.attn_q.bias...).
#pragma once

#include "gguf/gguf_llama.h"
#include "model/config.h"
#include "model/cpu_ops.h"

#include <torch/torch.h>

#include <array>
#include <vector>

namespace grm::model {

// Weight layout: every Linear weight is [out, in] as in torch and Hugging Face Llama, so a GGUF or
// safetensors loader copies rows straight through. One difference from HF checkpoints: HF stores
// attn_q/attn_k rows in the half-split rotary order; loading them needs the row permutation that
// llama.cpp's convert script applies (rows of each head reordered to adjacent pairs). Qwen2 keeps
// the half-split order (llama.cpp converts it unpermuted and rotates NEOX pairs), as does this model.

class RMSNormImpl : public torch::nn::Module {
  public:
    RMSNormImpl(int64_t dim, double eps);
    torch::Tensor forward(const torch::Tensor & x);  // [..., d] -> [..., d]

    torch::Tensor weight;  // [d]

  private:
    double eps_;
};
TORCH_MODULE(RMSNorm);

// The documents of packed rows: attention is computed per span (cost sum L^2 instead of T^2 per
// row), which equals packed_causal_bias exactly when each document is one contiguous run.
// doc [B, T] int64 (any device) -> [n, 3] int64 on the CPU: (row, start, len) of each run of equal ids.
torch::Tensor doc_spans(const torch::Tensor & doc);

// Per-layer keys and values for incremental decoding, preallocated to a fixed capacity.
struct KVCache {
    std::vector<torch::Tensor> k, v;  // per layer [B, n_head_kv, capacity, head_dim]
    int64_t                    n = 0;  // filled columns
    int64_t                    capacity() const { return k.empty() ? 0 : k[0].size(2); }
};

// One decoder layer. Submodule names are GGUF's (attn_norm, attn_q, ..., ffn_down) so that the
// module tree prints as blk.N.<gguf name>.weight.
class BlockImpl : public torch::nn::Module {
  public:
    explicit BlockImpl(const LlamaConfig & c);

    // x [B, T, d]; cos/sin [B, T, 1, head_dim/2]; attn_bias [B, 1, T, S] (0 or -inf), S = keys seen
    // (T without a cache, cache.n + T with one). cache_k/v: this layer's cache slots or undefined.
    torch::Tensor forward(const torch::Tensor & x, const torch::Tensor & cos, const torch::Tensor & sin,
                          const torch::Tensor & attn_bias, torch::Tensor * cache_k, torch::Tensor * cache_v,
                          int64_t cache_n);
    // Packed rows without a cache: attention only within each span (spans tile every row).
    torch::Tensor forward(const torch::Tensor & x, const torch::Tensor & cos, const torch::Tensor & sin,
                          const torch::Tensor & spans);

    RMSNorm            attn_norm{nullptr}, ffn_norm{nullptr};
    torch::nn::Linear  attn_q{nullptr}, attn_k{nullptr}, attn_v{nullptr}, attn_output{nullptr};
    torch::nn::Linear  ffn_gate{nullptr}, ffn_up{nullptr}, ffn_down{nullptr};

    // The projections in lora_projection_names() order (attn_q ... ffn_down).
    torch::nn::Linear & projection(size_t i);
    // LoRA adapters by projection (same order), registered on the projection's own module as
    // lora_a [r, in] and lora_b [out, r] (so named blk.N.attn_q.lora_a); undefined: no adapter.
    // Applied as y = W x + b + lora_scale * B (A x) while lora_enabled.
    std::array<torch::Tensor, 7> lora_a, lora_b;
    double                       lora_scale   = 0.0;
    bool                         lora_enabled = true;

  private:
    torch::Tensor project(size_t i, const torch::Tensor & x);  // projection i with its adapter
    // x [B, T, d] -> rotated q [B, H, T, hd] and k, v [B, Hkv, T, hd].
    std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> qkv(const torch::Tensor & x, const torch::Tensor & cos,
                                                                const torch::Tensor & sin);
    // q [B, H, T, hd], k/v [B, Hkv, S, hd], bias [B, 1, T, S] -> attention output [B, H, T, hd].
    torch::Tensor attend(const torch::Tensor & q, const torch::Tensor & k, const torch::Tensor & v,
                         const torch::Tensor & bias) const;
    torch::Tensor finish(const torch::Tensor & x, const torch::Tensor & y);  // y [B, H, T, hd] -> block output

    int64_t n_head_, n_head_kv_, head_dim_;
    bool    rope_neox_;
};
TORCH_MODULE(Block);


// The decoder. with_lm_head=false builds only the backbone (scalar-head models reuse it).
class TransformerImpl : public torch::nn::Module {
  public:
    explicit TransformerImpl(const LlamaConfig & c, bool with_lm_head = true);

    // tokens/positions [B, T] int64; attn_bias [B, 1, T, S] float; returns the final-norm hidden
    // states [B, T, d]. With a cache, the new keys/values are written at columns [cache.n, cache.n+T)
    // and cache.n advances by T.
    torch::Tensor hidden(const torch::Tensor & tokens, const torch::Tensor & positions,
                         const torch::Tensor & attn_bias, KVCache * cache = nullptr);

    // Logits [B, T, V].
    torch::Tensor forward(const torch::Tensor & tokens, const torch::Tensor & positions,
                          const torch::Tensor & attn_bias, KVCache * cache = nullptr);
    // Plain causal forward over [B, T] tokens at positions 0..T-1: logits [B, T, V].
    torch::Tensor forward(const torch::Tensor & tokens);
    // Packed training rows: doc [B, T] int64 document ids (contiguous runs). Same logits as
    // forward(tokens, positions, packed_causal_bias(doc)), computed per document.
    torch::Tensor forward_packed(const torch::Tensor & tokens, const torch::Tensor & positions,
                                 const torch::Tensor & doc);
    // Its final-norm hidden states [B, T, d]. Right-padded causal rows are one document each
    // (doc all zeros): the padding sees the tokens before it, which no real position minds.
    torch::Tensor hidden_packed(const torch::Tensor & tokens, const torch::Tensor & positions,
                                const torch::Tensor & doc);

    torch::Tensor lm_head(const torch::Tensor & h);  // [B, T, d] -> [B, T, V]

    KVCache make_cache(int64_t batch, int64_t capacity) const;

    // Normal(0, 0.02) weights, residual projections (attn_output, ffn_down) scaled by
    // 1/sqrt(2 n_layer), norms 1; deterministic for a seed on any device.
    void init_weights(uint64_t seed);

    // LoRA (config.h): adapters on p.targets of every block, A uniform(-1/sqrt(in), 1/sqrt(in))
    // from `seed`, B zeros (so the model's output is unchanged); every other parameter is frozen
    // (requires_grad false) except a scalar head's score.*. Once per model, before its optimizer.
    void add_lora(const LoraParams & p, uint64_t seed);
    // Off: the base model's forward (GRPO's KL reference is the policy without its adapters).
    void                set_lora_enabled(bool on);
    const LoraParams &  lora() const { return lora_; }

    const LlamaConfig & config() const { return config_; }
    torch::Device       device() const { return token_embd->weight.device(); }

    torch::nn::Embedding  token_embd{nullptr};
    torch::nn::ModuleList blk{nullptr};
    RMSNorm               output_norm{nullptr};
    torch::nn::Linear     output{nullptr};  // null when tied or without an LM head

  protected:
    // Rotary tables for positions [B, T]: cos/sin [B, T, 1, hd/2].
    std::pair<torch::Tensor, torch::Tensor> rope(const torch::Tensor & positions) const;

    LlamaConfig   config_;
    LoraParams    lora_;  // rank 0 until add_lora
    bool          with_lm_head_;
    torch::Tensor rope_cos_, rope_sin_;  // [n_ctx, head_dim/2] buffers
};
TORCH_MODULE(Transformer);

// Backbone + Linear(d, 1) on the last real token's hidden state: the meta RM and the
// Bradley-Terry RM. Parameters: the backbone's GGUF names plus score.weight [1, d], score.bias [1].
class ScalarHeadModelImpl : public TransformerImpl {
  public:
    explicit ScalarHeadModelImpl(const LlamaConfig & c);

    // tokens [B, T] right-padded, lengths [B] (real tokens per row, >= 1) -> scores [B].
    torch::Tensor score_tokens(const torch::Tensor & tokens, const torch::Tensor & lengths);

    torch::nn::Linear score{nullptr};
};
TORCH_MODULE(ScalarHeadModel);

// Attention biases [B, 1, T, S] (0 where allowed, -inf elsewhere), built on `device`.
// Causal within each row: query i sees keys j <= i.
torch::Tensor causal_bias(int64_t batch, int64_t t, torch::Device device);
// Packed rows: doc [B, T] int64 document ids per position; query i sees key j iff j <= i and
// doc[i] == doc[j] (padding shares one id, so every query sees at least itself).
torch::Tensor packed_causal_bias(const torch::Tensor & doc);

// Positions 0..T-1 for every row: [B, T] int64.
torch::Tensor arange_positions(int64_t batch, int64_t t, torch::Device device);

// Copies matching-named parameters from src into dst (e.g. an LM checkpoint into a scalar-head
// model); returns how many were copied. Shapes must match for a name to count.
int64_t copy_matching_parameters(torch::nn::Module & dst, const torch::nn::Module & src);

}  // namespace grm::model
