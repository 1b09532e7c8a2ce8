// A GGUF model loaded with llama.cpp: the shared, read-only half (weights, vocab, chat template).
// Per-request state (KV cache, samplers) lives in LlamaEngine; several engines may share one model.
#pragma once

#include "core/engine.h"
#include "core/error.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct llama_model;
struct llama_vocab;
struct llama_adapter_lora;

namespace grm {

// A LoRA adapter GGUF applied by a llama.cpp context (`--lora PATH[:SCALE]`): llama.cpp adds
// scale * alpha / r * B (A x) to every adapted projection.
struct LoraAdapterSpec {
    std::string path;
    float       scale = 1.0f;
};

class LlamaModel {
  public:
    // vocab_only: tokenizer and metadata without weights (the tokenizer of every libtorch process:
    // training data, rollouts; SentencePiece itself stays out of those processes).
    static Result<std::shared_ptr<LlamaModel>> load(const std::string & path, bool vocab_only = false);
    ~LlamaModel();
    LlamaModel(const LlamaModel &)             = delete;
    LlamaModel & operator=(const LlamaModel &) = delete;

    // add_bos: prepend BOS when the vocab says so; parse_special: "<|im_start|>" etc. in the text
    // become their control tokens (what chat prompts need).
    std::vector<int32_t> tokenize(const std::string & text, bool add_bos, bool parse_special = true) const;
    std::string          detokenize(const std::vector<int32_t> & ids, bool render_special = true) const;
    std::string          token_to_piece(int32_t token, bool render_special = false) const;  // else control tokens are ""
    int32_t              find_piece(const std::string & piece) const;  // id of e.g. "<|im_end|>", or -1
    int32_t              bos() const;
    int32_t              eos() const;
    bool                 is_eog(int32_t token) const;
    int                  n_ctx_train() const;
    // Memory one cell of a llama.cpp context's KV cache costs: a key and a value per layer and KV
    // head (the GGUF's <arch>.attention.key_length / value_length, else n_embd / n_head),
    // type_bytes per element, plus the F32 attention scores and mask over that cell that the
    // context reserves for an n_ubatch-token prefill (without flash attention, n_head scores a
    // token: as much as the keys and values for Llama 3 8B, 14x them for the committed judge).
    size_t               bytes_per_cell(size_t type_bytes, int n_ubatch) const;
    int                  n_vocab() const;
    // Wraps the history's turns and then one user turn in the model's chat template (plus the
    // assistant generation prompt). Models without a template get the turns as "Role: text" lines
    // before the user text (the text unchanged when there is no history).
    Result<std::string>  apply_chat_template(const std::string & user_text, const std::vector<Message> & history = {}) const;
    // The turns through the model's own chat template (llama.cpp's built-ins), with the assistant
    // generation prompt when asked; an error naming the file when it has no template.
    Result<std::string>  apply_chat_template(const std::vector<Message> & turns, bool add_generation_prompt) const;

    const std::string & path() const { return path_; }
    std::string         describe() const;
    llama_model *       get() const { return model_; }

    // The LoRA adapter GGUF at `path`, loaded once per model (contexts then set it with their own
    // scale) and freed with it. The file is checked against this model's GGUF first, so a wrong one
    // is an error naming what is wrong (check_gguf_lora), never a crash.
    Result<llama_adapter_lora *> lora_adapter(const std::string & path);

  private:
    LlamaModel() = default;
    std::mutex                                   lora_mutex_;
    std::map<std::string, llama_adapter_lora *>  lora_;  // by path
    llama_model *       model_ = nullptr;
    const llama_vocab * vocab_ = nullptr;
    std::string         path_;
    std::string         chat_template_;
};

// Memory a llama.cpp context's KV cache and attention buffers may take when its size is left to
// grm: `mib` MiB, or for 0 a quarter of the machine's memory (the cgroup v2 limit when lower).
size_t kv_budget_bytes(int mib = 0);

// KV cells of cell_bytes each (LlamaModel::bytes_per_cell) that budget_bytes holds, at least 256
// (a context llama.cpp can still use) and at most INT_MAX / 16 (so 16 x cells fits an int).
int budget_cells(size_t budget_bytes, size_t cell_bytes);

// Replaces invalid UTF-8 sequences (byte-fallback pieces from a weak model) with U+FFFD.
std::string sanitize_utf8(const std::string & s);

}  // namespace grm
