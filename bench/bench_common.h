// What the benchmarks share: the commit they print, timing and mean +- sd, and a llama-server
// baseline on loopback.
#pragma once

#include <httplib.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace grm::bench {

using clk = std::chrono::steady_clock;
inline double secs(clk::time_point a) { return std::chrono::duration<double>(clk::now() - a).count(); }

struct Stat {
    double mean = 0, sd = 0;
};
inline Stat stat(const std::vector<double> & v) {
    Stat s;
    for (double x : v) s.mean += x / v.size();
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean) / std::max<size_t>(1, v.size() - 1);
    s.sd = std::sqrt(s.sd);
    return s;
}

// The checkout's short commit, or "unknown".
inline std::string git_commit() {
    FILE * p = popen("git -C " GRM_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null", "r");
    char   buf[64] = { 0 };
    if (p && fgets(buf, sizeof buf, p)) buf[strcspn(buf, "\n")] = 0;
    if (p) pclose(p);
    return buf[0] ? buf : "unknown";
}

#ifdef GRM_LLAMA_BIN_DIR  // benchmarks with a llama-server baseline define it
// Starts llama-server (from GRM_LLAMA_BIN_DIR) on 127.0.0.1:port with `slots` slots sharing `ctx`
// cells and waits (up to 60 s) until /health answers. The pid, or -1 when it did not come up.
inline pid_t start_llama_server(const std::string & model, int port, int threads, int slots, int ctx) {
    std::fflush(stdout);  // the child must not inherit (and later flush) our buffered rows
    pid_t pid = fork();
    if (pid == 0) {
        std::string bin = std::string(GRM_LLAMA_BIN_DIR) + "/llama-server";
        std::string c = std::to_string(ctx), np = std::to_string(slots), t = std::to_string(threads), po = std::to_string(port);
        freopen("/dev/null", "w", stdout);
        freopen("/dev/null", "w", stderr);
        execl(bin.c_str(), bin.c_str(), "-m", model.c_str(), "--host", "127.0.0.1", "--port", po.c_str(), "-np", np.c_str(), "-c",
              c.c_str(), "-t", t.c_str(), "-tb", t.c_str(), "--no-webui", (char *) nullptr);
        _exit(127);
    }
    httplib::Client cli("127.0.0.1", port);
    for (int i = 0; i < 600; i++) {
        auto r = cli.Get("/health");
        if (r && r->status == 200) return pid;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid, SIGTERM);
    return -1;
}
#endif

}  // namespace grm::bench
