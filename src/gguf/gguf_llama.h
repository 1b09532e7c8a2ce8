// Writes a Llama- or Qwen2-architecture GGUF that llama.cpp and llama-server load: hyper-parameters,
// a SentencePiece-style "llama" vocab, an optional chat template, and f32/f16 weights; and reads
// such a file back (`grm import --gguf`, vocab loading). Used by `grm export` (trained models);
// tests and benchmarks write tiny random ones with tests/common/random_model.h. The writer also
// writes Gemma-2 files (the meta RM's architecture), for tests of scorers on a second architecture.
#pragma once

#include "core/chatml.h"
#include "core/error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grm {

// The decoders grm's libtorch model and this reader/writer share, by llama.cpp's
// general.architecture. qwen2 is llama with q/k/v biases (always present) and NEOX rotary pairs
// (x[i], x[i + head_dim/2]) instead of llama's adjacent (x[2i], x[2i+1]); its keys are "qwen2.*".
enum class Arch { llama, qwen2 };

const char *        arch_name(Arch a);  // "llama", "qwen2"
std::optional<Arch> arch_from_name(const std::string & name);

struct LlamaConfig {
    int   n_vocab    = 0;
    int   n_ctx      = 512;
    int   n_embd     = 64;
    int   n_layer    = 2;
    int   n_head     = 4;
    int   n_head_kv  = 4;  // < n_head: grouped-query attention
    int   n_ff       = 176;
    float rms_eps    = 1e-5f;
    float rope_theta = 10000.0f;
    bool  tied_embeddings = true;  // no output.weight; llama.cpp reuses token_embd
    Arch  arch     = Arch::llama;
    bool  qkv_bias = false;  // attn_q/k/v.bias [n_embd], [kv], [kv]: qwen2 always, llama optionally
    // Llama 3.1 RoPE scaling as llama.cpp applies it: rotary pair i turns at theta^(-2i/head_dim) /
    // rope_freq_factors[i]. [head_dim/2] or empty (no scaling); the GGUF tensor rope_freqs.weight,
    // which llama.cpp's converter computes from rope_scaling {factor, low/high_freq_factor, ...}.
    std::vector<float> rope_freq_factors;

    int  head_dim() const { return n_embd / n_head; }
    bool rope_neox() const { return arch == Arch::qwen2; }  // llama.cpp's LLAMA_ROPE_TYPE_NEOX
};

// Token types as in SentencePiece and llama.cpp: 1 normal, 2 unknown, 3 control, 6 byte.
struct Vocab {
    std::vector<std::string> pieces;
    std::vector<float>       scores;
    std::vector<int32_t>     types;
    int  bos_id = 1, eos_id = 2, unk_id = 0, pad_id = -1;
    bool add_bos = true;
    // llama.cpp's SPM tokenizer puts a space before the text at the start and after every
    // special or user-defined piece. A vocab with response markers turns it off, so that the text
    // after a marker tokenizes as it does anywhere else (written only when false: older files
    // stay byte-identical).
    bool add_space_prefix = true;
};

// A tensor in torch layout: row-major, shape as torch reports it ([out, in] for a Linear weight).
// GGUF stores dims reversed, which this writer handles.
struct NamedTensor {
    std::string          name;  // GGUF name, e.g. "blk.0.attn_q.weight"
    std::vector<int64_t> shape;
    std::vector<float>   data;
};

enum class GgufType { f32, f16 };

// What llama.cpp's "gemma2" architecture adds to LlamaConfig. Its graph (not the file) scales the
// embeddings by sqrt(n_embd), RMS-norms each attention and FFN output (blk.N.post_attention_norm,
// blk.N.post_ffw_norm) before the residual add, soft-caps attention logits (cap * tanh(x / cap)),
// gives even layers sliding-window attention, and uses GELU-tanh and NEOX rotary embeddings. Norm
// weights are stored as llama.cpp's converter writes them: (1 + w) of the Hugging Face RMSNorm.
struct Gemma2Params {
    int   head_dim       = 0;  // attention.key_length / value_length; may differ from n_embd / n_head
    float attn_softcap   = 50.0f;
    float final_softcap  = 30.0f;  // the logits only: embeddings (pooled scores) are not capped
    int   sliding_window = 4096;
};

struct GgufLlamaModel {
    std::string              name = "grm";
    LlamaConfig              config;
    std::optional<Gemma2Params> gemma2;  // set: architecture "gemma2", else config.arch
    Vocab                    vocab;
    std::string              chat_template;  // Jinja; ChatML is recognised by llama.cpp's built-ins
    std::vector<NamedTensor> tensors;
};

// Reads any llama- or qwen2-architecture GGUF whose weights are f32 or f16 (grm's own exports, or a
// user's small model) into f32 tensors in torch layout; n_vocab is token_embd's row count, qkv_bias
// is set for qwen2 and for a llama file with blk.0.attn_q.bias, rope_freqs.weight goes to
// config.rope_freq_factors (not to tensors), `vocab` is filled when the file has
// SentencePiece-style arrays (empty for BPE). Errors name what is wrong: not a GGUF file, another
// architecture, a missing hyper-parameter or token_embd, partial rotary dimensions, RoPE scaling
// other than rope_freqs.weight (rope.scaling.type linear/yarn/..., rope.scale_linear), a quantized
// tensor (its name and type), a tensor of more than two dimensions. Tensor shapes are checked where
// they are used (model::load_gguf_weights).
Result<GgufLlamaModel> read_gguf_llama(const std::string & path);

// The tokenizer.ggml.* keys of a GGUF file (full model or vocab-only).
Result<Vocab> read_gguf_vocab(const std::string & path);

// Writes atomically (temp file + rename); 1-D tensors (norms, biases) stay f32 with GgufType::f16.
// The architecture is "gemma2" when m.gemma2 is set, else m.config.arch (tensor names are the caller's);
// non-empty config.rope_freq_factors is written first, as the tensor rope_freqs.weight.
Status write_gguf_llama(const std::string & path, const GgufLlamaModel & m, GgufType type = GgufType::f32);

}  // namespace grm
