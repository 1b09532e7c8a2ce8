// llama.cpp in-process engine: shared-prefix prefill plan, batched decoding, prefix cache.
#include "engines/llama_engine.h"

#include "engines/exact_attention.h"

#include "llama.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>
#include <thread>

namespace grm {

struct LlamaEngine::Seq {
    int                  req = 0, sample = 0;
    const SamplingParams * sampling = nullptr;
    const CancelFlag *   cancel   = nullptr;
    std::vector<int32_t> tokens;  // the prompt
    int                  limit  = 0;  // max new tokens
    int                  seq_id = -1;
    llama_sampler *      smpl   = nullptr;
    // prefill plan
    int depth = 1, lcp = 0, parent_seq = -1;
    // generation state
    int32_t              pending = -1;  // sampled, not yet appended
    int                  n_past  = 0;
    bool                 done    = false;
    std::vector<int32_t> gen;            // the output's tokens
    std::vector<int32_t> draft;          // this step's drafted tokens
    long                 tried = 0, kept = 0;  // drafted tokens that were compared with a sample, and kept
    Generation           out;
};

namespace {

using clk = std::chrono::steady_clock;
double since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

size_t common_prefix(const std::vector<int32_t> & a, const std::vector<int32_t> & b) {
    size_t n = std::min(a.size(), b.size()), i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

llama_sampler * make_sampler(const SamplingParams & sp, uint64_t seed) {
    llama_sampler * chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
    if (sp.temperature <= 0.0f) {
        llama_sampler_chain_add(chain, llama_sampler_init_greedy());
        return chain;
    }
    if (sp.top_k > 0) llama_sampler_chain_add(chain, llama_sampler_init_top_k(sp.top_k));
    if (sp.top_p < 1.0f) llama_sampler_chain_add(chain, llama_sampler_init_top_p(sp.top_p, 1));
    llama_sampler_chain_add(chain, llama_sampler_init_temp(sp.temperature));
    // llama.cpp's dist sampler takes 32 bits, and LLAMA_DEFAULT_SEED there means "random": never pass it
    uint32_t s32 = (uint32_t) (seed ^ (seed >> 32));
    if (s32 == LLAMA_DEFAULT_SEED) s32 = 0x5eed;
    llama_sampler_chain_add(chain, llama_sampler_init_dist(s32));
    return chain;
}

void batch_add(llama_batch & b, int32_t tok, int pos, int seq, bool logits) {
    b.token[b.n_tokens]     = tok;
    b.pos[b.n_tokens]       = pos;
    b.n_seq_id[b.n_tokens]  = 1;
    b.seq_id[b.n_tokens][0] = seq;
    b.logits[b.n_tokens]    = logits;
    b.n_tokens++;
}

// Earliest occurrence of any stop string in text[from..], or npos.
size_t find_stop(const std::string & text, const std::vector<std::string> & stops, size_t from) {
    size_t best = std::string::npos;
    for (const auto & s : stops) {
        if (s.empty()) continue;
        size_t start = from > s.size() ? from - s.size() : 0;
        size_t p     = text.find(s, start);
        if (p != std::string::npos && p < best) best = p;
    }
    return best;
}

// Whether the attention device takes this context's decode attention: models with ALiBi or
// attention sinks it does not take would decode with ggml's flash-attention kernel. One token at
// position 0 tells (the count is process-wide; another engine decoding meanwhile can only make
// this say yes, which keeps a correct if slower path).
bool exact_attention_claims(llama_context * ctx, const llama_model * model) {
    llama_token tok    = llama_vocab_bos(llama_model_get_vocab(model));
    if (tok == LLAMA_TOKEN_NULL) tok = 0;
    const long  before = exact_attention_nodes();
    const bool  ok     = llama_decode(ctx, llama_batch_get_one(&tok, 1)) == 0;
    llama_memory_clear(llama_get_memory(ctx), true);
    return ok && exact_attention_nodes() > before;
}

}  // namespace

LlamaEngineParams fill_kv_sizes(LlamaEngineParams p, int n_ctx_train, size_t cell_bytes, size_t budget_bytes) {
    const long cells = budget_cells(budget_bytes, cell_bytes);
    if (p.n_ctx_seq <= 0) p.n_ctx_seq = (int) std::min<long>(std::max(n_ctx_train, 1), cells);
    if (p.kv_size <= 0) p.kv_size = (int) std::max<long>(p.n_ctx_seq, std::min(std::max(16L * p.n_ctx_seq, 8192L), cells));
    if (p.cache_tokens <= 0) p.cache_tokens = (int) std::max<long>(1, std::min(4L * p.n_ctx_seq, cells / 2));
    return p;
}

Result<std::unique_ptr<LlamaEngine>> LlamaEngine::create(std::shared_ptr<LlamaModel> model, LlamaEngineParams p) {
    const size_t cell   = model->bytes_per_cell(p.f32_kv ? 4 : 2, std::min(p.n_batch, 512));
    const size_t budget = kv_budget_bytes(p.kv_budget_mib);
    p                   = fill_kv_sizes(p, model->n_ctx_train(), cell, budget);
    p.n_seq_max = std::clamp(p.n_seq_max, 2, 256);
    p.draft_max = std::clamp(p.draft_max, 0, 64);
    if (p.threads <= 0) p.threads = (int) std::max(1u, std::thread::hardware_concurrency());
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx           = p.kv_size;
    cp.n_batch         = p.n_batch;
    cp.n_ubatch        = std::min(p.n_batch, 512);  // bytes_per_cell above counts the prefill graph at this size
    cp.n_seq_max       = p.n_seq_max;
    cp.n_threads       = p.threads;
    cp.n_threads_batch = p.threads;
    cp.kv_unified      = true;  // one cell pool: seq_cp shares cells instead of copying them
    cp.no_perf         = true;
    cp.flash_attn_type = p.flash_attn ? LLAMA_FLASH_ATTN_TYPE_AUTO : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    p.exact_attention = p.exact_attention && !p.f32_kv;
    if (p.exact_attention) {
        register_exact_attention();  // before the context: llama.cpp adds ACCEL devices at creation
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    }
    if (p.f32_kv) {
        cp.type_k          = GGML_TYPE_F32;
        cp.type_v          = GGML_TYPE_F32;
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    }
    std::vector<llama_adapter_lora *> adapters;
    std::vector<float>                scales;
    for (const auto & l : p.lora) {  // before the context: a bad adapter costs no KV cache
        auto a = model->lora_adapter(l.path);
        if (!a) return a.error();
        adapters.push_back(*a);
        scales.push_back(l.scale);
    }
    llama_context * ctx = llama_init_from_model(model->get(), cp);
    if (!ctx)
        return make_error(Errc::internal,
                          "llama.cpp could not create a context for '" + model->path() + "' with a KV cache of " + std::to_string(p.kv_size) +
                              " cells (about " + std::to_string((cell * (size_t) p.kv_size) >> 20) + " MiB with the attention buffers): lower the KV size or the context");
    if (p.exact_attention && !exact_attention_claims(ctx, model->get())) {  // plain attention beats ggml's flash attention when decoding
        llama_free(ctx);
        p.exact_attention  = false;
        cp.flash_attn_type = p.flash_attn ? LLAMA_FLASH_ATTN_TYPE_AUTO : LLAMA_FLASH_ATTN_TYPE_DISABLED;
        if (!(ctx = llama_init_from_model(model->get(), cp)))
            return make_error(Errc::internal, "llama.cpp could not create a context for '" + model->path() + "' without flash attention");
    }
    if (!adapters.empty() && llama_set_adapters_lora(ctx, adapters.data(), adapters.size(), scales.data()) != 0) {
        llama_free(ctx);
        return make_error(Errc::internal, "llama.cpp could not apply the LoRA adapters to '" + model->path() + "'");
    }
    return std::unique_ptr<LlamaEngine>(new LlamaEngine(std::move(model), p, ctx));
}

LlamaEngine::LlamaEngine(std::shared_ptr<LlamaModel> model, LlamaEngineParams params, llama_context * ctx)
    : model_(std::move(model)), params_(params), ctx_(ctx) {
    for (int i = params_.n_seq_max - 1; i >= 0; i--) free_ids_.push_back(i);
}

LlamaEngine::~LlamaEngine() {
    if (ctx_) llama_free(ctx_);
}

std::string LlamaEngine::describe() const {
    std::string lora;
    for (const auto & l : params_.lora) lora += ", lora " + l.path + " x" + std::to_string(l.scale);
    return "llama.cpp: " + model_->describe() + lora + ", ctx/seq " + std::to_string(params_.n_ctx_seq) + ", kv " +
           std::to_string(params_.kv_size) + ", threads " + std::to_string(params_.threads) +
           (params_.exact_attention ? ", exact attention" : "");
}

int LlamaEngine::take_seq_id() {
    int id = free_ids_.back();  // a wave and the cached prompts it restores never use more than n_seq_max
    free_ids_.pop_back();
    return id;
}

void LlamaEngine::drop_seq(int seq_id) {
    llama_memory_seq_rm(llama_get_memory(ctx_), seq_id, -1, -1);
    free_ids_.push_back(seq_id);
}

// Cached prompts live in host memory, not in the KV cache: every decode step attends over the whole
// occupied KV range, so cells kept for later requests would slow down every step of this one (at
// concurrency 1 they made prefix reuse 2x slower than none). A wave restores the ones it shares.
void LlamaEngine::remember(const Seq & s) {
    llama_memory_seq_rm(llama_get_memory(ctx_), s.seq_id, (llama_pos) s.tokens.size(), -1);  // the prompt only
    if (params_.prefix_cache) {
        auto it = std::find_if(cache_.begin(), cache_.end(), [&](const CacheEntry & c) { return c.tokens == s.tokens; });
        if (it != cache_.end()) {  // already cached: keep the older copy
            cache_.splice(cache_.begin(), cache_, it);
        } else {
            CacheEntry e{ s.tokens, std::vector<uint8_t>(llama_state_seq_get_size(ctx_, s.seq_id)) };
            if (llama_state_seq_get_data(ctx_, e.kv.data(), e.kv.size(), s.seq_id) == e.kv.size()) {
                cache_tokens_ += (long) e.tokens.size();
                cache_.push_front(std::move(e));
            }
        }
        while (cache_.size() > 1 && cache_tokens_ > params_.cache_tokens) {
            cache_tokens_ -= (long) cache_.back().tokens.size();
            cache_.pop_back();
        }
    }
    drop_seq(s.seq_id);
}

Status LlamaEngine::decode(llama_batch & batch) {
    int32_t rc = llama_decode(ctx_, batch);
    if (rc == 0) return ok_status();
    if (rc == 1)
        return make_error(Errc::unavailable, "KV cache full (" + std::to_string(params_.kv_size) + " cells): lower k or the batch, or raise the KV size");
    return make_error(Errc::internal, "llama_decode failed with code " + std::to_string(rc));
}

// Prefill plan: sort the wave's prompts together with cached ones; each new prompt copies its
// longest shared prefix from a cached prompt or a shallower new one and prefills the rest.
// Depth-d prompts are prefilled together in one batch after depth d-1. Restored cached prompts
// leave the KV cache again at the end (their cells stay while the new sequences share them).
Status LlamaEngine::prefill(std::vector<Seq *> & wave) {
    auto t0 = clk::now();
    struct Node {
        const std::vector<int32_t> * toks;
        int                          seq_id;  // cached prompts: -1 until restored into the KV cache
        Seq *                        seq;     // null for cached prompts
        int                          depth;
        const CacheEntry *           cached = nullptr;
    };
    std::vector<Node> nodes;
    std::vector<int>  restored;
    for (auto & c : cache_) nodes.push_back({ &c.tokens, -1, nullptr, 0, &c });
    for (Seq * s : wave) nodes.push_back({ &s->tokens, s->seq_id, s, 1 });
    std::vector<int> order(nodes.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = (int) i;
    // Without the prefix cache, sharing stays within a request (its k samples): requests are
    // grouped first and no prefix is shared across a group boundary.
    const bool cross = params_.prefix_cache;
    auto       req   = [&](const Node & n) { return n.seq ? n.seq->req : -1; };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        if (!cross && req(nodes[a]) != req(nodes[b])) return req(nodes[a]) < req(nodes[b]);
        if (*nodes[a].toks != *nodes[b].toks) return *nodes[a].toks < *nodes[b].toks;
        return nodes[a].depth < nodes[b].depth;
    });
    std::vector<size_t> lcp_prev(order.size(), 0);
    for (size_t p = 1; p < order.size(); p++) {
        const Node & a = nodes[order[p - 1]], & b = nodes[order[p]];
        lcp_prev[p]    = cross || req(a) == req(b) ? common_prefix(*a.toks, *b.toks) : 0;
    }

    int              max_depth = 1;
    for (size_t p = 0; p < order.size(); p++) {
        Node & n = nodes[order[p]];
        if (!n.seq) continue;
        // The parent: the longest shared prefix with a cached prompt (either side in sorted order)
        // or an earlier new one (prefilled a round before); ties: the shallowest.
        // At least the last prompt token is left to prefill: it yields the sequence's first logits.
        const size_t cap  = n.toks->size() - 1;
        size_t       L    = 0;
        int          best = -1;
        auto         consider = [&](size_t q, size_t lcp) {
            lcp = std::min(lcp, cap);
            if (lcp > L || (lcp == L && lcp > 0 && nodes[order[q]].depth < nodes[order[best]].depth)) {
                L    = lcp;
                best = (int) q;
            }
        };
        size_t m = SIZE_MAX;  // common prefix with order[q]: the smallest lcp_prev between them
        for (size_t q = p; q-- > 0 && (m = std::min(m, lcp_prev[q + 1])) > 0;) consider(q, m);
        m = SIZE_MAX;
        for (size_t q = p + 1; q < order.size() && (m = std::min(m, lcp_prev[q])) > 0; q++)
            if (!nodes[order[q]].seq) consider(q, m);
        if (best < 0) continue;
        Node & parent = nodes[order[best]];
        if (parent.cached && parent.seq_id < 0) {  // bring the cached prompt's KV back for this wave
            if (free_ids_.empty()) continue;      // (cannot happen: a wave takes at most half the slots)
            int id = take_seq_id();
            const auto & kv = parent.cached->kv;
            if (llama_state_seq_set_data(ctx_, kv.data(), kv.size(), id) != kv.size()) {
                drop_seq(id);
                continue;  // no room: prefill the whole prompt instead
            }
            parent.seq_id = id;
            restored.push_back(id);
        }
        n.depth           = parent.depth + 1;
        n.seq->depth      = n.depth;
        n.seq->lcp        = (int) L;
        n.seq->parent_seq = parent.seq_id;
        max_depth         = std::max(max_depth, n.depth);
    }

    llama_memory_t mem   = llama_get_memory(ctx_);
    llama_batch    batch = llama_batch_init(params_.n_batch, 0, 1);
    Status         st    = ok_status();
    for (int d = 1; d <= max_depth && st.ok(); d++) {
        std::vector<Seq *> round;
        for (Seq * s : wave) {
            if (s->depth == d) round.push_back(s);
        }
        for (Seq * s : round) {
            if (s->parent_seq >= 0) llama_memory_seq_cp(mem, s->parent_seq, s->seq_id, 0, s->lcp);
            stats_.prompt_tokens += (long) s->tokens.size();
            stats_.prefill_tokens += (long) s->tokens.size() - s->lcp;
        }
        // stream the round's tokens through llama_decode in chunks of n_batch
        std::vector<std::pair<Seq *, int>> ends;  // sequences whose last token is in this chunk
        batch.n_tokens = 0;
        auto flush     = [&]() -> Status {
            if (batch.n_tokens == 0) return ok_status();
            if (auto r = decode(batch); !r) return r;
            for (auto & [s, idx] : ends) s->pending = llama_sampler_sample(s->smpl, ctx_, idx);
            ends.clear();
            batch.n_tokens = 0;
            return ok_status();
        };
        for (Seq * s : round) {
            for (size_t t = s->lcp; t < s->tokens.size() && st.ok(); t++) {
                bool last = t + 1 == s->tokens.size();
                batch_add(batch, s->tokens[t], (int) t, s->seq_id, last);
                if (last) ends.push_back({ s, batch.n_tokens - 1 });
                if (batch.n_tokens == params_.n_batch) st = flush();
            }
            s->n_past = (int) s->tokens.size();
        }
        if (st.ok()) st = flush();
    }
    llama_batch_free(batch);
    for (int id : restored) drop_seq(id);  // the cached copies stay in host memory
    stats_.prefill_s += since(t0);
    return st;
}

// Appends a sampled token to the sequence's output; false once the sequence has ended (end of
// generation, a stop string, the token limit), with its finish reason set.
bool LlamaEngine::consume(Seq & s, int32_t token) {
    auto finish = [&](FinishReason r) {
        s.done       = true;
        s.out.finish = r;
        return false;
    };
    if (s.out.completion_tokens >= s.limit) return finish(FinishReason::length);
    if (model_->is_eog(token) && !s.sampling->ignore_eos) return finish(FinishReason::stop);
    size_t from = s.out.text.size();
    s.out.text += model_->token_to_piece(token);
    s.out.completion_tokens++;
    s.gen.push_back(token);
    size_t stop = find_stop(s.out.text, s.sampling->stop, from);
    if (stop != std::string::npos) {
        s.out.text.resize(stop);
        return finish(FinishReason::stop);
    }
    if (s.out.completion_tokens >= s.limit) return finish(FinishReason::length);
    return true;
}

// One decode step for every running sequence: its last sampled token plus, when its recent
// tokens occurred before, the tokens that followed them (the draft). Draft tokens are kept while
// they equal what the sampler draws at their position. Marks the sequences that end as done.
Status LlamaEngine::step(std::vector<Seq *> & running, llama_batch & batch) {
    batch.n_tokens = 0;
    std::vector<std::pair<Seq *, int>> stepping;  // sequence, batch index of its first token
    for (Seq * s : running) {
        if (is_cancelled(*s->cancel)) {  // its request fails as a whole (generate)
            s->done       = true;
            s->out.finish = FinishReason::error;
            continue;
        }
        if (!consume(*s, s->pending)) continue;
        stepping.push_back({ s, batch.n_tokens });
        batch_add(batch, s->pending, s->n_past, s->seq_id, true);
        s->draft.clear();
        int room = std::min(params_.draft_max, s->limit - s->out.completion_tokens - 1);  // past the limit: never kept
        int n    = room > 0 ? draft_length(*s, room) : 0;
        if (n > 0) find_draft(*s, n);
        for (size_t j = 0; j < s->draft.size(); j++) batch_add(batch, s->draft[j], s->n_past + 1 + (int) j, s->seq_id, true);
    }
    Status st = ok_status();
    if (!stepping.empty()) {
        auto t0 = clk::now();
        st      = decode(batch);
        stats_.decode_s += since(t0);
        stats_.decode_steps++;
    }
    auto t0 = clk::now();
    for (auto & [s, idx] : stepping) {
        if (!st) break;
        s->n_past++;  // the pending token's KV is written
        stats_.decoded_tokens++;
        stats_.drafted_tokens += (long) s->draft.size();
        size_t kept = 0;
        while (true) {
            int32_t y = llama_sampler_sample(s->smpl, ctx_, idx + (int) kept);
            if (kept == s->draft.size() || y != s->draft[kept]) {
                s->pending = y;
                break;
            }
            kept++;  // the draft token is what was sampled: its KV is already written
            stats_.accepted_tokens++;
            if (!consume(*s, y)) break;
            s->n_past++;
            stats_.decoded_tokens++;
        }
        s->kept += (long) kept;
        s->tried += (long) std::min(kept + 1, s->draft.size());
        if (kept < s->draft.size()) llama_memory_seq_rm(llama_get_memory(ctx_), s->seq_id, s->n_past, -1);  // rejected drafts' cells
    }
    stats_.sample_s += since(t0);
    return st;
}

// The j-th drafted token is kept with about the sequence's acceptance rate to the j-th power: draft
// while that stays above draft_p_min. A function of the sequence's own tokens only, so a judgment
// still depends only on its seed, input and batch.
int LlamaEngine::draft_length(const Seq & s, int room) const {
    const double r = (s.kept + 2.0) / (s.tried + 3.0);  // prior 2/3: every sequence tries a draft early on
    int          n = 0;
    double       p = 1;
    while (n < room && (p *= r) > params_.draft_p_min) n++;
    return n;
}

// The draft: up to n tokens that followed the most recent earlier occurrence of the sequence's last
// g tokens (g = 4 down to 2) in its prompt and output.
void LlamaEngine::find_draft(Seq & s, int n) const {
    const size_t P = s.tokens.size(), L = P + s.gen.size();
    auto         at = [&](size_t i) { return i < P ? s.tokens[i] : s.gen[i - P]; };
    for (size_t g = 4; g >= 2; g--) {
        if (L < g + 1) continue;
        for (size_t j = L - g; j-- > 0;) {  // candidate occurrence at [j, j + g), before the last g tokens
            size_t m = 0;
            while (m < g && at(j + m) == at(L - g + m)) m++;
            if (m < g) continue;
            for (size_t t = j + g; t < L && (int) s.draft.size() < n; t++) s.draft.push_back(at(t));
            return;
        }
    }
}

// Estimated seconds per generated token when n sequences decode together over `cells` KV cells.
// A step costs a fixed overhead, the weights (read once, used by every token: memory-bound for a
// few tokens, compute-bound beyond) and each token's attention over every occupied cell of the
// unified cache (4 * n_layer * n_embd FLOPs a cell: QK^T and PV), whoever's cell it is. On a CPU
// compute runs out at a few tokens a step, so a wave gains from a few sequences and then only pays
// for the cells others bring: 8 samples of one judgment decode faster alone than beside other
// judgments (`grm score -k 8`, committed judge). With exact attention (the default) a token attends
// over its own sample's cells only, yet pricing it so (wider waves) measured no faster on
// bench_many (k = 1: 1.87 s against 1.79 s; k = 8: 6.06 against 6.04), so the model stays as it
// is. Constants: this machine's core, measured
// (docs/benchmarks.md), compute scaled by the threads (more cores make wider waves pay). A function
// of counts only, so a sample's wave depends on the inputs and the thread count, never on timing.
double LlamaEngine::token_cost(double n, double cells) const {
    constexpr double    bytes_per_s = 20e9, step_s = 1.2e-4;
    const double        flops   = 35e9 * params_.threads;
    const llama_model * m       = model_->get();
    const double        weights = std::max((double) llama_model_size(m) / bytes_per_s, n * 2.0 * (double) llama_model_n_params(m) / flops);
    const double        attention = n * cells * 4.0 * llama_model_n_layer(m) * llama_model_n_embd(m) / flops;
    return (step_s + weights + attention) / n;
}

std::vector<GenerationResult> LlamaEngine::generate(const std::vector<GenerationRequest> & requests) {
    std::vector<std::optional<Error>>     failed(requests.size());
    std::vector<std::vector<Generation>>  outs(requests.size());
    std::vector<std::unique_ptr<Seq>>     seqs;
    for (size_t r = 0; r < requests.size(); r++) {
        const GenerationRequest & req = requests[r];
        if (req.prompts.empty()) {
            failed[r] = make_error(Errc::invalid_argument, "request has no prompts");
            continue;
        }
        if (!req.seeds.empty() && req.seeds.size() != req.prompts.size()) {
            failed[r] = make_error(Errc::invalid_argument, "request has " + std::to_string(req.seeds.size()) + " seeds for " +
                                                               std::to_string(req.prompts.size()) + " prompts");
            continue;
        }
        std::vector<std::unique_ptr<Seq>> mine;
        for (size_t i = 0; i < req.prompts.size() && !failed[r]; i++) {
            auto text = req.chat ? model_->apply_chat_template(req.prompts[i], req.history) : Result<std::string>(req.prompts[i]);
            if (!text) {
                failed[r] = text.error();
                break;
            }
            auto s    = std::make_unique<Seq>();
            s->req    = (int) r;
            s->sample = (int) i;
            s->sampling = &req.sampling;
            s->cancel   = &req.cancel;
            s->tokens = model_->tokenize(*text, true);
            if ((int) s->tokens.size() >= params_.n_ctx_seq) {
                failed[r] = make_error(Errc::context_overflow, "prompt has " + std::to_string(s->tokens.size()) +
                                                                   " tokens; the context holds " + std::to_string(params_.n_ctx_seq));
                break;
            }
            s->limit                 = std::min(req.sampling.max_tokens, params_.n_ctx_seq - (int) s->tokens.size());
            s->out.prompt_tokens     = (int) s->tokens.size();
            mine.push_back(std::move(s));
        }
        if (!failed[r]) {
            for (auto & s : mine) seqs.push_back(std::move(s));
        }
    }
    // Waves: requests are taken whole, in order, while each makes a generated token cheaper
    // (token_cost at mid-generation: prompts' cells plus half of each sample's expected output,
    // its token limit up to 256) and its samples fit in half the slots (the other half restores
    // cached prompts) and 90% of the KV cells, counting prompts and token limits. A wave runs until
    // its last sample ends; a request never joins a running wave: its cells would land in the holes
    // finished samples leave across the whole occupied range, which every token then attends over
    // (measured 12% slower than waiting: docs/benchmarks.md, "Many judgments at once").
    const int   max_wave = std::max(1, params_.n_seq_max / 2);
    llama_batch batch    = llama_batch_init(max_wave * (1 + params_.draft_max), 0, 1);
    for (size_t next = 0; next < seqs.size();) {
        std::vector<Seq *> wave;
        long               reserved = 0;  // KV cells for prompts and token limits
        double             cells    = 0;  // KV cells at mid-generation
        while (next < seqs.size() && (int) wave.size() < max_wave) {
            const int req = seqs[next]->req;
            size_t    end = next;  // the request's samples: [next, end)
            while (end < seqs.size() && seqs[end]->req == req) end++;
            if (is_cancelled(requests[req].cancel)) {  // not started: nothing to prefill
                next = end;
                continue;
            }
            std::vector<Seq *> mine;
            long               r = 0;
            double             c = 0;
            for (size_t i = next; i < end && (int) (wave.size() + mine.size()) < max_wave; i++) {
                Seq *      s   = seqs[i].get();
                const long own = (long) (s->tokens.size() - (i > next ? common_prefix(seqs[i - 1]->tokens, s->tokens) : 0));  // a shared prefix is held once
                if (!(wave.empty() && mine.empty()) && reserved + r + s->limit + own > params_.kv_size * 9L / 10) break;
                r += s->limit + own;
                c += (double) own + std::min(s->limit, 256) / 2.0;
                mine.push_back(s);
            }
            if (!wave.empty() && (mine.size() < end - next || token_cost((double) (wave.size() + mine.size()), cells + c) >=
                                                                  token_cost((double) wave.size(), cells)))
                break;  // the request waits for the next wave (a request too big for one wave starts one)
            wave.insert(wave.end(), mine.begin(), mine.end());
            reserved += r;
            cells += c;
            next += mine.size();
        }
        if (wave.empty()) continue;
        stats_.waves++;
        for (Seq * s : wave) {
            s->seq_id = take_seq_id();
            s->smpl   = make_sampler(requests[s->req].sampling, sample_seed(requests[s->req], s->sample));
        }
        Status st = prefill(wave);
        // one decode step at a time; a sample leaves the wave (its slot and cells freed) as it ends
        while (!wave.empty()) {
            if (st.ok()) st = step(wave, batch);
            if (params_.measure_kv && std::any_of(wave.begin(), wave.end(), [](Seq * s) { return s->done; }))
                stats_.peak_state_bytes = std::max(stats_.peak_state_bytes, llama_state_get_size(ctx_));
            std::vector<Seq *> running;
            for (Seq * s : wave) {
                if (st.ok() && !s->done) {
                    running.push_back(s);
                    continue;
                }
                llama_sampler_free(s->smpl);
                s->smpl     = nullptr;
                s->out.text = sanitize_utf8(s->out.text);
                if (st.ok()) remember(*s);
                else {
                    drop_seq(s->seq_id);
                    if (!failed[s->req]) failed[s->req] = st.error();
                }
            }
            wave.swap(running);
        }
    }
    llama_batch_free(batch);
    for (size_t r = 0; r < requests.size(); r++)
        if (!failed[r] && is_cancelled(requests[r].cancel)) failed[r] = make_error(Errc::cancelled, "request cancelled");
    std::vector<GenerationResult> results;
    for (auto & s : seqs) {
        if (!failed[s->req]) outs[s->req].push_back(std::move(s->out));
    }
    for (size_t r = 0; r < requests.size(); r++) {
        if (failed[r]) results.emplace_back(*failed[r]);
        else results.emplace_back(std::move(outs[r]));
    }
    return results;
}

}  // namespace grm
