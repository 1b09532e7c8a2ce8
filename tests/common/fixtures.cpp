// Test fixtures: temp dirs, tiny GGUF models, free ports.
#include "common/fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
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
    std::string key = std::to_string(c.n_ctx) + "-" + std::to_string(c.n_embd) + "-" + std::to_string(c.n_layer) + "-" +
                      std::to_string(c.n_head) + "-" + std::to_string(c.n_head_kv) + "-" + std::to_string(c.n_ff) + "-" +
                      std::to_string(c.tied_embeddings) + "-" + std::to_string(seed);
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

}  // namespace grm::test
