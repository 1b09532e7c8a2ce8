// The in-process llama.cpp engine. For each call it decodes the samples of its requests in waves
// (whole requests, taken while they make a generated token cheaper: see `token_cost`): prompts are
// tokenized, their shared token prefixes prefilled once (KV cells are shared between sequences by
// seq_cp in llama.cpp's unified cache, so a prefix is held once, not k times), then every running
// sequence is decoded in a single llama_decode per step (its attention by exact_attention.h, over
// only the cells the sample sees): its next token, plus the tokens drafted
// from an earlier occurrence of its last few tokens (speculative decoding from the prompt); a
// finished sequence leaves the wave at once. Prompts are kept for later requests in host memory
// and restored when a new prompt shares them.
#pragma once

#include "core/engine.h"
#include "llama/llama_model.h"

#include <list>
#include <memory>

struct llama_context;
struct llama_batch;

namespace grm {

struct LlamaEngineParams {
    // The three sizes below left at 0 come from the model and kv_budget_mib (fill_kv_sizes).
    int  n_ctx_seq    = 0;     // per-sequence limit (prompt + generation); 0 = model's training context, at most what the budget holds
    int  kv_size      = 0;     // KV cells shared by all sequences; 0 = max(16 * n_ctx_seq, 8192) within the budget
    int  kv_budget_mib = 0;    // memory the default sizes may give the KV cache; 0 = a quarter of the machine's (cgroup's) memory
    int  n_seq_max    = 128;   // sequence slots (a wave's samples, at most half, + cached prompts restored for it), at most 256
    int  n_batch      = 2048;  // tokens per llama_decode call
    int  threads      = 0;     // 0 = hardware concurrency
    bool prefix_cache = true;  // share prefixes across requests: in one batch and via recent prompts' KV
    int  cache_tokens = 0;     // cached prompt tokens kept in host memory (summed per entry); 0 = 4 x n_ctx_seq, within half the budget
    bool f32_kv       = false; // F32 KV cache (bit-closer to libtorch; parity tests)
    // llama.cpp's CPU flash attention made batched decoding over a shared prefix ~9x slower
    // (8 samples x 16 tokens after a 1.5k-token prefix, 3 M params: 1.3 s vs 0.14 s), so off by default
    bool flash_attn   = false;
    // Decode attention over exactly the cells each sample sees (exact_attention.h): llama.cpp's
    // flash-attention graph, its decode-sized nodes run by grm's kernel, prefill chunks by ggml's.
    // Needs the F16 KV cache (f32_kv turns it off). A model whose attention the device does not
    // take (ALiBi, attention sinks) gets plain attention, as with this off (one probe token tells).
    // The device also takes decode-sized products of large float weights (decode_matmul.h); it is
    // process-wide once registered, so later engines get those products from it even with this off.
    bool exact_attention = true;
    bool measure_kv   = false; // record Stats::peak_state_bytes (benchmarks)
    // Speculative decoding from the prompt: a sequence whose last tokens (an n-gram of 2..4) occur
    // earlier in its prompt or output drafts the tokens that followed them there, and one decode
    // step verifies them. Each position is still drawn by the sequence's own sampler, in order,
    // and a draft token is kept only if it equals that draw, so the output follows the model's
    // distribution exactly (token for token the same, up to the float rounding that the batch's
    // layout already changes). How far a sequence drafts follows its own acceptance rate, so a
    // sequence whose drafts are rejected (random text) soon stops drafting.
    int   draft_max   = 8;     // drafted tokens per sequence and step (0 = off)
    float draft_p_min = 0.5f;  // draft the j-th token only while acceptance rate^j exceeds this
    // LoRA adapter GGUFs applied to every generation (loaded once per model, set on this context).
    std::vector<LoraAdapterSpec> lora;
};

// Fills the sizes left at 0. Cells cost cell_bytes each (LlamaModel::bytes_per_cell), and the
// defaults keep the KV cache within budget_bytes, never below one full sequence: a long-context
// model (Llama 3.1 8B: 131,072 tokens at about 194 KiB a cell, 24 GiB for one sequence) gets a
// shorter context instead of a cache that cannot be allocated. Sizes the caller set stay as they are.
LlamaEngineParams fill_kv_sizes(LlamaEngineParams p, int n_ctx_train, size_t cell_bytes, size_t budget_bytes);

class LlamaEngine : public Engine {
  public:
    static Result<std::unique_ptr<LlamaEngine>> create(std::shared_ptr<LlamaModel> model, LlamaEngineParams params = {});
    ~LlamaEngine() override;

    std::string                   describe() const override;
    std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & requests) override;

    const LlamaModel & model() const { return *model_; }
    int                n_ctx_seq() const { return params_.n_ctx_seq; }

    struct Stats {
        long prompt_tokens   = 0;  // tokens of all prompts
        long prefill_tokens  = 0;  // tokens actually prefilled (the rest came from shared prefixes)
        long decoded_tokens  = 0;  // generated tokens
        long waves           = 0;  // groups of requests prefilled and decoded together (token_cost)
        long decode_steps    = 0;  // llama_decode calls while generating
        long drafted_tokens  = 0;  // tokens drafted from n-gram matches (draft_max > 0)
        long accepted_tokens = 0;  // drafted tokens that equalled the sample (each saves a step)
        // wall time: prefill (llama_decode over prompts), generation's llama_decode calls, sampling
        double prefill_s = 0, decode_s = 0, sample_s = 0;
        // with measure_kv: largest llama.cpp state seen at the end of a wave (the KV cells in
        // use, each held once however many sequences share it)
        size_t peak_state_bytes = 0;
    };
    const Stats & stats() const { return stats_; }
    void          reset_stats() { stats_ = {}; }


  private:
    struct Seq;
    struct CacheEntry {
        std::vector<int32_t> tokens;
        std::vector<uint8_t> kv;  // the prompt's KV cells (llama_state_seq_get_data)
    };

    LlamaEngine(std::shared_ptr<LlamaModel> model, LlamaEngineParams params, llama_context * ctx);
    double token_cost(double n, double cells) const;
    Status prefill(std::vector<Seq *> & wave);
    Status step(std::vector<Seq *> & running, llama_batch & batch);
    bool   consume(Seq & s, int32_t token);
    void   find_draft(Seq & s, int n) const;
    int    draft_length(const Seq & s, int room) const;
    Status decode(llama_batch & batch);
    int    take_seq_id();
    void   drop_seq(int seq_id);
    void   remember(const Seq & s);

    std::shared_ptr<LlamaModel> model_;
    LlamaEngineParams           params_;
    llama_context *             ctx_ = nullptr;
    std::vector<int>            free_ids_;
    std::list<CacheEntry>       cache_;     // most recently used first, in host memory
    long                        cache_tokens_ = 0;
    Stats                       stats_;
};

}  // namespace grm
