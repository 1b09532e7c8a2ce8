// llama.cpp scalar RM: one sequence at a time through an embeddings context.
#include "scaling/llama_scalar_rm.h"

#include "core/prompt.h"
#include "scaling/rm_text.h"

#include <llama.h>

#include <algorithm>

namespace grm::scaling {

Result<std::unique_ptr<LlamaScalarRm>> LlamaScalarRm::load(const std::string & path, int n_threads) {
    auto head = load_head(head_path(path));
    if (!head) return head.error();
    auto model = LlamaModel::load(path);
    if (!model) return model.error();
    if (llama_model_n_embd((*model)->get()) != int(head->weight.size()))
        return make_error(Errc::invalid_argument, path + ": head width differs from the model's n_embd");
    std::unique_ptr<LlamaScalarRm> rm(new LlamaScalarRm());
    rm->model_ = *model;
    rm->head_  = std::move(*head);
    // Without pooling a causal model's text may be decoded in ubatches, so the attention scores
    // are [n_ubatch, n_ctx] per head, not [n_ctx, n_ctx]: 134 MB instead of 8.6 GB for Gemma-2
    // 27B (32 heads, 8192 context). The last token's final-norm state is what pooling LAST gives.
    // The context is the model's, as far as the KV budget holds it (longer texts keep their end).
    const int n_ubatch = 128;
    rm->n_ctx_ = std::min((*model)->n_ctx_train(), budget_cells(kv_budget_bytes(), (*model)->bytes_per_cell(4, n_ubatch)));
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx                = uint32_t(rm->n_ctx_);
    cp.n_batch              = uint32_t(rm->n_ctx_);
    cp.n_ubatch             = uint32_t(std::min(rm->n_ctx_, n_ubatch));
    cp.n_seq_max            = 1;
    cp.embeddings           = true;
    cp.pooling_type         = LLAMA_POOLING_TYPE_NONE;
    // f32 keys/values: one short forward per text, and the head amplifies f16 cache rounding. No
    // flash attention for the same reason: on the CPU it moved tiny llama and gemma2 fixtures'
    // scores by ~1e-3 against a float64 reference, plain attention by < 1e-4
    // (tests/scaling/test_meta_import.cpp).
    cp.type_k               = GGML_TYPE_F32;
    cp.type_v               = GGML_TYPE_F32;
    cp.flash_attn_type      = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    if (n_threads > 0) cp.n_threads = cp.n_threads_batch = n_threads;
    rm->ctx_ = llama_init_from_model(rm->model_->get(), cp);
    if (rm->ctx_ == nullptr) return make_error(Errc::internal, "cannot create an embeddings context for " + path);
    return rm;
}

LlamaScalarRm::~LlamaScalarRm() {
    if (ctx_ != nullptr) llama_free(ctx_);
}

Result<std::vector<double>> LlamaScalarRm::score_texts(const std::vector<std::string> & texts) {
    std::vector<double> out;
    for (const auto & text : texts) {
        auto tokens = tokenize(text);
        if (tokens.empty()) return make_error(Errc::invalid_argument, "scalar RM: empty input");
        llama_memory_clear(llama_get_memory(ctx_), true);
        llama_batch batch = llama_batch_get_one(tokens.data(), int32_t(tokens.size()));
        if (llama_decode(ctx_, batch) != 0) return make_error(Errc::internal, "scalar RM: llama_decode failed");
        const float * h = llama_get_embeddings_ith(ctx_, -1);  // [d], the last token, after the final norm
        if (h == nullptr) return make_error(Errc::internal, "scalar RM: no embedding for the last token");
        out.push_back(head_.apply(h));
    }
    return out;
}

std::vector<int32_t> LlamaScalarRm::tokenize(const std::string & text) const {
    return fit_context(model_->tokenize(text, /*add_bos=*/true, /*parse_special=*/head_.chat), n_ctx_);
}

LlamaMetaScorer::LlamaMetaScorer(std::unique_ptr<LlamaScalarRm> rm) : rm_(std::move(rm)) {
    // load_head() has parsed the template already; a head built in memory is checked here.
    if (rm_->head().chat)
        if (auto t = parse_template(rm_->head().prompt, "meta RM head (prompt)")) chat_prompt_ = std::move(*t);
}

Result<std::unique_ptr<LlamaMetaScorer>> LlamaMetaScorer::load(const std::string & path, int n_threads) {
    auto rm = LlamaScalarRm::load(path, n_threads);
    if (!rm) return rm.error();
    if ((*rm)->head().kind != "meta") return make_error(Errc::invalid_argument, path + " is not a meta RM (head kind '" + (*rm)->head().kind + "')");
    return std::make_unique<LlamaMetaScorer>(std::move(*rm));
}

Result<std::vector<double>> LlamaMetaScorer::score(const Sample & s, const std::vector<Trajectory> & ts) {
    std::vector<std::string> texts;
    for (const auto & t : ts) {
        auto text = this->text(s, t);
        if (!text) return text.error();
        texts.push_back(std::move(*text));
    }
    return rm_->score_texts(texts);
}

Result<std::string> LlamaMetaScorer::text(const Sample & s, const Trajectory & t) const {
    if (!rm_->head().chat) return meta_rm_text(s, t.order, t.generation.text);
    if (!chat_prompt_) return make_error(Errc::invalid_argument, "meta RM head: its chat prompt is not a valid template");
    return rm_->model().apply_chat_template({ { "user", render_prompt(*chat_prompt_, s, t.order) },
                                              { "assistant", t.generation.text } },
                                            /*add_generation_prompt=*/false);
}

}  // namespace grm::scaling
