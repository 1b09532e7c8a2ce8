// llama.cpp vocab-only tokenizer wrapper.
#include "model/tokenizer.h"

#include "llama.h"

#include <mutex>

namespace grm::model {

namespace {

void quiet_log(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::load(const std::string & gguf_path) {
    static std::once_flag once;
    std::call_once(once, [] {
        llama_log_set(quiet_log, nullptr);
        llama_backend_init();
    });
    auto params       = llama_model_default_params();
    params.vocab_only = true;
    llama_model * m   = llama_model_load_from_file(gguf_path.c_str(), params);
    if (m == nullptr) return make_error(Errc::invalid_argument, "cannot load a vocabulary from " + gguf_path);
    std::unique_ptr<Tokenizer> t(new Tokenizer());
    t->model_ = m;
    t->vocab_ = llama_model_get_vocab(m);
    return t;
}

Tokenizer::~Tokenizer() {
    if (model_ != nullptr) llama_model_free(model_);
}

std::vector<int32_t> Tokenizer::tokenize(const std::string & text, bool add_special, bool parse_special) const {
    std::vector<int32_t> ids(text.size() + 8);
    int32_t n = llama_tokenize(vocab_, text.data(), int32_t(text.size()), ids.data(), int32_t(ids.size()),
                               add_special, parse_special);
    if (n < 0) {
        ids.resize(size_t(-n));
        n = llama_tokenize(vocab_, text.data(), int32_t(text.size()), ids.data(), int32_t(ids.size()), add_special,
                           parse_special);
    }
    ids.resize(size_t(std::max(n, 0)));
    return ids;
}

std::string Tokenizer::detokenize(const std::vector<int32_t> & ids, bool render_special) const {
    std::string out(ids.size() * 8 + 16, '\0');
    int32_t     n = llama_detokenize(vocab_, ids.data(), int32_t(ids.size()), out.data(), int32_t(out.size()),
                                     /*remove_special=*/false, render_special);
    if (n < 0) {
        out.resize(size_t(-n));
        n = llama_detokenize(vocab_, ids.data(), int32_t(ids.size()), out.data(), int32_t(out.size()), false,
                             render_special);
    }
    out.resize(size_t(std::max(n, 0)));
    return out;
}

int32_t Tokenizer::n_vocab() const { return llama_vocab_n_tokens(vocab_); }
int32_t Tokenizer::bos() const { return llama_vocab_bos(vocab_); }
int32_t Tokenizer::eos() const { return llama_vocab_eos(vocab_); }

int32_t Tokenizer::find_piece(const std::string & piece) const {
    for (int32_t i = 0; i < n_vocab(); ++i)
        if (piece == llama_vocab_get_text(vocab_, i)) return i;
    return -1;
}

}  // namespace grm::model
