// Test fixtures: temp dirs, tiny GGUF models, free ports.
#include "common/fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace grm::test {

namespace fs = std::filesystem;

std::string temp_dir() {
    static std::vector<std::string> dirs;
    static std::once_flag           once;
    std::call_once(once, [] {
        std::atexit([] {
            for (auto & d : dirs) fs::remove_all(d);
        });
    });
    char tmpl[] = "/tmp/grm-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dirs.push_back(tmpl);
    return tmpl;
}

LlamaConfig default_tiny_config() {
    LlamaConfig c;
    c.n_ctx     = 256;
    c.n_embd    = 64;
    c.n_layer   = 2;
    c.n_head    = 4;
    c.n_head_kv = 2;
    c.n_ff      = 128;
    return c;
}

std::string tiny_model(const LlamaConfig & c, uint64_t seed) {
    static std::map<std::string, std::string> made;
    static std::mutex                         mu;
    std::lock_guard<std::mutex>               lock(mu);
    // every field of the config (a field left out would hand one test another's model)
    std::ostringstream k;
    k << c.n_vocab << "-" << c.n_ctx << "-" << c.n_embd << "-" << c.n_layer << "-" << c.n_head << "-" << c.n_head_kv << "-"
      << c.n_ff << "-" << c.rms_eps << "-" << c.rope_theta << "-" << c.tied_embeddings << "-" << arch_name(c.arch) << "-"
      << c.qkv_bias << "-" << std::hash<std::string>()(std::string((const char *) c.rope_freq_factors.data(),
                                                                   c.rope_freq_factors.size() * sizeof(float)))
      << "-" << seed;
    const std::string key = k.str();
    if (made.count(key)) return made[key];
    std::string path = temp_dir() + "/tiny-" + key + ".gguf";
    auto        st   = write_gguf_llama(path, random_llama_model(c, seed));
    if (!st) throw std::runtime_error(st.error().to_string());
    return made[key] = path;
}

int free_port() {
    int         fd   = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family      = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port        = 0;
    bind(fd, (sockaddr *) &addr, sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, (sockaddr *) &addr, &len);
    int port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

std::string llama_bin_dir() { return GRM_LLAMA_BIN_DIR; }

std::string build_dir() {
    const char * env = std::getenv("GRM_BUILD_DIR");
    return env && *env ? env : GRM_TEST_BUILD_DIR;
}

std::string built_program(const std::string & relative_path) {
    std::string path = build_dir() + "/" + relative_path;
    if (::access(path.c_str(), X_OK) != 0) {
        throw std::runtime_error(path + " is not built (build it, or set GRM_BUILD_DIR to the build folder)");
    }
    return path;
}

namespace {

LlamaConfig judge_config() {
    LlamaConfig c;
    c.n_ctx     = 4096;  // the judge prompt is ~1 token per character with the byte-level vocab
    c.n_embd    = 32;
    c.n_layer   = 1;
    c.n_head    = 2;
    c.n_head_kv = 2;
    c.n_ff      = 32;
    return c;
}

int piece_id(const Vocab & v, const std::string & piece) {
    for (size_t i = 0; i < v.pieces.size(); i++) {
        if (v.pieces[i] == piece) return (int) i;
    }
    throw std::runtime_error("no piece '" + piece + "' in the fixture vocab");
}

NamedTensor & tensor(GgufLlamaModel & m, const std::string & name) {
    for (auto & t : m.tensors) {
        if (t.name == name) return t;
    }
    throw std::runtime_error("no tensor " + name);
}

}  // namespace

std::string boxed_seven_model() {
    static std::once_flag once;
    static std::string    path;
    std::call_once(once, [] { path = boxed_model("7"); });
    return path;
}

std::string boxed_model(const std::string & box) {
    LlamaConfig c     = judge_config();
    c.tied_embeddings = false;
    GgufLlamaModel m  = random_llama_model(c, 7);
    m.name            = "grm-boxed-fixture";
    const int d = c.n_embd, V = m.config.n_vocab;
    // Residual stream = the token's embedding: attention and MLP write nothing.
    for (auto & t : m.tensors) {
        if (t.name.find("attn_output") != std::string::npos || t.name.find("ffn_down") != std::string::npos) {
            std::fill(t.data.begin(), t.data.end(), 0.0f);
        }
    }
    // Chain token i is one-hot on dim i; every other token on dim `other`. After RMS norm a
    // one-hot row is sqrt(d) on its dim, so a weight of 20 gives its successor a logit of
    // ~113 against 0 for the rest: the choice is certain at any temperature <= 2.
    std::vector<std::string> chain = { "\\", "b", "o", "x", "e", "d", "{" };
    for (char ch : box) chain.push_back(std::string(1, ch));
    chain.push_back("}");
    for (size_t i = 0; i < chain.size(); i++) {  // a piece twice would need two successors
        for (size_t j = 0; j < i; j++) {
            if (chain[i] == chain[j]) throw std::runtime_error("boxed_model: '" + box + "' repeats a character of \\boxed{}");
        }
    }
    const int                      other = (int) chain.size();
    auto &                         embd  = tensor(m, "token_embd.weight").data;  // [V, d]
    auto &                         out   = tensor(m, "output.weight").data;      // [V, d]
    std::fill(embd.begin(), embd.end(), 0.0f);
    std::fill(out.begin(), out.end(), 0.0f);
    std::vector<int> ids;
    for (const auto & p : chain) ids.push_back(piece_id(m.vocab, p));
    for (int t = 0; t < V; t++) embd[(size_t) t * d + other] = 1.0f;
    for (size_t i = 0; i < ids.size(); i++) {
        embd[(size_t) ids[i] * d + other] = 0.0f;
        embd[(size_t) ids[i] * d + i]     = 1.0f;
        int next                          = i + 1 < ids.size() ? ids[i + 1] : m.vocab.eos_id;
        out[(size_t) next * d + i]        = 20.0f;
    }
    out[(size_t) ids[0] * d + other] = 20.0f;
    const std::string path = temp_dir() + "/boxed-" + box + ".gguf";
    auto              st   = write_gguf_llama(path, m);
    if (!st) throw std::runtime_error(st.error().to_string());
    return path;
}

std::string random_judge_model() { return tiny_model(judge_config(), 42); }

}  // namespace grm::test
