// `grm serve` subprocess harness and fixture models for the server tests and benchmark.
#include "serve_process.h"

#include "common/fixtures.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace grm::test {


ServeProcess::ServeProcess(const std::string & model, const std::vector<std::string> & extra) {
    std::string bin = built_program("tools/grm/grm");  // throws, naming it, when it is not built
    dir_            = temp_dir();
    std::string port_file = dir_ + "/port", log_file = dir_ + "/serve.log";

    std::vector<std::string> args = { bin, "serve", "--model", model, "--port", "0", "--port-file", port_file,
                                      "--threads", "1", "--kv-size", "8192" };
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        std::vector<char *> argv;
        for (auto & a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!alive()) throw std::runtime_error("grm serve exited during start-up:\n" + log());
        std::ifstream in(port_file);
        if (in >> port_) {
            auto [status, body] = get("/health");
            if (status == 200) return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    terminate(5);
    throw std::runtime_error("grm serve did not come up in 60 s:\n" + log());
}

ServeProcess::~ServeProcess() {
    if (pid_ > 0) terminate(30);
}

std::string ServeProcess::log() const {
    std::ifstream      in(dir_ + "/serve.log");
    std::ostringstream s;
    s << in.rdbuf();
    std::string all = s.str();
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

httplib::Client ServeProcess::client(double timeout_s) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(std::chrono::milliseconds((long long) (timeout_s * 1000)));
    c.set_write_timeout(std::chrono::seconds(10));
    c.set_connection_timeout(std::chrono::seconds(10));
    return c;
}

std::pair<int, nlohmann::json> ServeProcess::post(const std::string & path, const std::string & body,
                                                  const httplib::Headers & headers, double timeout_s) const {
    httplib::Client c   = client(timeout_s);
    auto            res = c.Post(path.c_str(), headers, body, "application/json");
    if (!res) return { -1, nullptr };
    return { res->status, nlohmann::json::parse(res->body, nullptr, false) };
}

std::pair<int, std::string> ServeProcess::get(const std::string & path, const httplib::Headers & headers) const {
    httplib::Client c   = client(10);
    auto            res = c.Get(path.c_str(), headers);
    if (!res) return { -1, "" };
    return { res->status, res->body };
}

bool ServeProcess::alive() {
    if (pid_ <= 0) return false;
    int   status = 0;
    pid_t r      = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

int ServeProcess::terminate(double timeout_s) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = wait_exit(timeout_s);
    if (status >= 0) return status;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
}

int ServeProcess::wait_exit(double timeout_s) {
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds((long long) (timeout_s * 1000));
    while (std::chrono::steady_clock::now() < deadline) {
        int   status = 0;
        pid_t r      = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
}

}  // namespace grm::test
