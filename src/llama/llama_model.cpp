// Loading GGUF models through llama.cpp, tokenization and chat templating.
#include "llama/llama_model.h"

#include "core/sample.h"
#include "gguf.h"
#include "gguf/gguf_lora.h"
#include "llama.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include <unistd.h>

namespace grm {

namespace {

void quiet_log(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

void init_backend_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (!getenv("GRM_LLAMA_VERBOSE")) llama_log_set(quiet_log, nullptr);
        llama_backend_init();
    });
}

}  // namespace

Result<std::shared_ptr<LlamaModel>> LlamaModel::load(const std::string & path, bool vocab_only) {
    init_backend_once();
    if (!std::ifstream(path)) return make_error(Errc::not_found, "model file '" + path + "' does not exist");
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only         = vocab_only;
    llama_model * m       = llama_model_load_from_file(path.c_str(), mp);
    if (!m) {
        // The architecture, when the header is readable, tells an unsupported model from a broken file.
        std::string why = "not a valid GGUF model?";
        if (gguf_context * g = gguf_init_from_file(path.c_str(), gguf_init_params{ /*no_alloc=*/true, /*ctx=*/nullptr })) {
            const int64_t k = gguf_find_key(g, "general.architecture");
            why = k >= 0 && gguf_get_kv_type(g, k) == GGUF_TYPE_STRING
                      ? "architecture '" + std::string(gguf_get_val_str(g, k)) + "': unknown to this llama.cpp, or the file is damaged"
                      : "a GGUF file without general.architecture";
            gguf_free(g);
        }
        return make_error(Errc::invalid_argument, "llama.cpp could not load '" + path + "' (" + why + ")");
    }
    std::shared_ptr<LlamaModel> out(new LlamaModel());
    out->model_ = m;
    out->vocab_ = llama_model_get_vocab(m);
    out->path_  = path;
    if (const char * t = llama_model_chat_template(m, nullptr)) out->chat_template_ = t;
    return out;
}

LlamaModel::~LlamaModel() {
    if (model_) llama_model_free(model_);
}

std::vector<int32_t> LlamaModel::tokenize(const std::string & text, bool add_bos, bool parse_special) const {
    std::vector<llama_token> toks(text.size() + 8);
    int32_t n = llama_tokenize(vocab_, text.data(), (int32_t) text.size(), toks.data(), (int32_t) toks.size(), add_bos, parse_special);
    if (n < 0) {
        toks.resize(-n);
        n = llama_tokenize(vocab_, text.data(), (int32_t) text.size(), toks.data(), (int32_t) toks.size(), add_bos, parse_special);
    }
    toks.resize(std::max(n, 0));
    return toks;
}

std::string LlamaModel::detokenize(const std::vector<int32_t> & ids, bool render_special) const {
    std::string out(ids.size() * 8 + 16, '\0');
    int32_t     n = llama_detokenize(vocab_, ids.data(), (int32_t) ids.size(), out.data(), (int32_t) out.size(),
                                     /*remove_special=*/false, render_special);
    if (n < 0) {
        out.resize(-n);
        n = llama_detokenize(vocab_, ids.data(), (int32_t) ids.size(), out.data(), (int32_t) out.size(), false,
                             render_special);
    }
    out.resize(std::max(n, 0));
    return out;
}

int32_t LlamaModel::find_piece(const std::string & piece) const {
    for (int32_t i = 0; i < n_vocab(); ++i)
        if (piece == llama_vocab_get_text(vocab_, i)) return i;
    return -1;
}

int32_t LlamaModel::bos() const { return llama_vocab_bos(vocab_); }
int32_t LlamaModel::eos() const { return llama_vocab_eos(vocab_); }

std::string LlamaModel::token_to_piece(int32_t token, bool render_special) const {
    char    buf[256];
    int32_t n = llama_token_to_piece(vocab_, token, buf, sizeof buf, 0, render_special);
    if (n < 0) {
        std::string big(-n, '\0');
        n = llama_token_to_piece(vocab_, token, big.data(), (int32_t) big.size(), 0, render_special);
        return big.substr(0, std::max(n, 0));
    }
    return std::string(buf, n);
}

bool LlamaModel::is_eog(int32_t token) const { return llama_vocab_is_eog(vocab_, token); }
int  LlamaModel::n_ctx_train() const { return llama_model_n_ctx_train(model_); }
size_t LlamaModel::bytes_per_cell(size_t type_bytes, int n_ubatch) const {
    auto meta = [&](const std::string & key, long fallback) {
        char buf[128];
        if (llama_model_meta_val_str(model_, key.c_str(), buf, sizeof buf) < 0) return fallback;
        char * end = nullptr;
        long   v   = std::strtol(buf, &end, 10);
        return end != buf && v > 0 ? v : fallback;
    };
    char arch[64] = "";
    llama_model_meta_val_str(model_, "general.architecture", arch, sizeof arch);
    const long head   = llama_model_n_embd(model_) / std::max(1, llama_model_n_head(model_));
    const long k_len  = meta(std::string(arch) + ".attention.key_length", head);
    const long v_len  = meta(std::string(arch) + ".attention.value_length", head);
    const size_t kv   = (size_t) llama_model_n_layer(model_) * (size_t) llama_model_n_head_kv(model_) * (size_t) (k_len + v_len) * type_bytes;
    return kv + (size_t) n_ubatch * (size_t) (llama_model_n_head(model_) + 1) * sizeof(float);
}

size_t kv_budget_bytes(int mib) {
    if (mib > 0) return (size_t) mib << 20;
    size_t             bytes = (size_t) sysconf(_SC_PHYS_PAGES) * (size_t) sysconf(_SC_PAGE_SIZE);
    std::ifstream      f("/sys/fs/cgroup/memory.max");
    unsigned long long limit = 0;
    if (f >> limit && limit > 0 && limit < bytes) bytes = (size_t) limit;  // "max" (no limit) does not parse
    return bytes / 4;
}

int budget_cells(size_t budget_bytes, size_t cell_bytes) {
    return (int) std::clamp<size_t>(budget_bytes / std::max<size_t>(cell_bytes, 1), 256, INT_MAX / 16);
}

int  LlamaModel::n_vocab() const { return llama_vocab_n_tokens(vocab_); }

Result<std::string> LlamaModel::apply_chat_template(const std::string & user_text, const std::vector<Message> & history) const {
    if (chat_template_.empty()) {
        if (history.empty()) return user_text;
        std::string text;
        for (const auto & m : history) {
            std::string role = m.role;
            if (!role.empty() && role[0] >= 'a' && role[0] <= 'z') role[0] = char(role[0] - 'a' + 'A');
            text += role + ": " + m.content + "\n";
        }
        return text + "User: " + user_text;
    }
    std::vector<Message> turns = history;
    turns.push_back({ "user", user_text });
    return apply_chat_template(turns, true);
}

Result<std::string> LlamaModel::apply_chat_template(const std::vector<Message> & turns, bool add_generation_prompt) const {
    if (chat_template_.empty())
        return make_error(Errc::invalid_argument, "'" + path_ + "' has no chat template (tokenizer.chat_template)");
    std::vector<llama_chat_message> msgs;
    size_t                          chars = 0;
    for (const auto & m : turns) {
        msgs.push_back({ m.role.c_str(), m.content.c_str() });
        chars += m.content.size();
    }
    std::vector<char> buf(chars * 2 + 256 * msgs.size() + 256);
    int32_t n = llama_chat_apply_template(chat_template_.c_str(), msgs.data(), msgs.size(), add_generation_prompt, buf.data(), (int32_t) buf.size());
    if (n > (int32_t) buf.size()) {
        buf.resize(n);
        n = llama_chat_apply_template(chat_template_.c_str(), msgs.data(), msgs.size(), add_generation_prompt, buf.data(), (int32_t) buf.size());
    }
    if (n < 0) {
        return make_error(Errc::invalid_argument, "the chat template of '" + path_ +
                                                      "' is not one llama.cpp knows; use raw mode (--raw) and put the template in the prompt");
    }
    return std::string(buf.data(), n);
}

Result<llama_adapter_lora *> LlamaModel::lora_adapter(const std::string & path) {
    std::lock_guard<std::mutex> lock(lora_mutex_);
    if (auto it = lora_.find(path); it != lora_.end()) return it->second;
    if (!std::ifstream(path)) return make_error(Errc::not_found, "LoRA adapter '" + path + "' does not exist");
    if (auto st = check_gguf_lora(path, path_); !st) return st.error();
    llama_adapter_lora * a = llama_adapter_lora_init(model_, path.c_str());
    if (a == nullptr)
        return make_error(Errc::invalid_argument, "llama.cpp could not load the LoRA adapter '" + path + "' for '" + path_ +
                                                      "' (GRM_LLAMA_VERBOSE=1 shows why)");
    lora_[path] = a;
    return a;
}

std::string LlamaModel::describe() const {
    char desc[256];
    llama_model_desc(model_, desc, sizeof desc);
    return std::string(desc) + " (" + std::to_string(llama_model_n_params(model_)) + " params, " + path_ + ")";
}

std::string sanitize_utf8(const std::string & s) {
    if (is_valid_utf8(s)) return s;
    std::string out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c   = s[i];
        int           len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len > 0 && i + len <= s.size() && is_valid_utf8(s.substr(i, len))) {
            out.append(s, i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            i++;
        }
    }
    return out;
}

}  // namespace grm
