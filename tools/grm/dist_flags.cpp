// --nproc: the launcher re-runs its own command line N times with torchrun's variables set, and
// stops the whole job when any rank dies.
#include "dist_flags.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

namespace grm::cli {

void add_dist_flags(CLI::App * cmd, DistArgs & a) {
    cmd->add_option("--nproc", a.nproc,
                    "data-parallel ranks on this machine (Gloo over 127.0.0.1); each takes its share of every "
                    "batch, the result equals one process up to float summation order (docs/distributed.md)")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    cmd->add_option("--dist-timeout", a.timeout_s,
                    "seconds a rank waits for the others (rendezvous, each collective) before the job fails")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
}

namespace {

// This process's own argv, to start the ranks with exactly the command the user gave.
std::vector<std::string> own_argv() {
    std::ifstream            in("/proc/self/cmdline", std::ios::binary);
    std::string              all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    for (size_t at = 0; at < all.size();) {
        size_t end = all.find('\0', at);
        if (end == std::string::npos) end = all.size();
        args.push_back(all.substr(at, end - at));
        at = end + 1;
    }
    return args;
}

// A port free on loopback now (the ranks' rendezvous binds it a moment later).
Result<int> free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return make_error(Errc::io, "socket: " + std::string(std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family      = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len        = sizeof addr;
    if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
        close(fd);
        return make_error(Errc::io, "no free port on 127.0.0.1: " + std::string(std::strerror(errno)));
    }
    close(fd);
    return int(ntohs(addr.sin_port));
}

std::string describe(int status) {
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

bool failed(int status) { return !WIFEXITED(status) || WEXITSTATUS(status) != 0; }

int launch(int n, const std::string & who) {
    int port = 0;
    if (const char * p = std::getenv("MASTER_PORT")) port = std::atoi(p);
    if (port <= 0) {
        auto fp = free_port();
        if (!fp) {
            std::fprintf(stderr, "%s: %s\n", who.c_str(), fp.error().to_string().c_str());
            return 1;
        }
        port = *fp;
    }
    const std::vector<std::string> args = own_argv();
    std::vector<pid_t>             pids;
    for (int r = 0; r < n; ++r) {
        pid_t pid = fork();
        if (pid < 0) {
            std::fprintf(stderr, "%s: fork: %s\n", who.c_str(), std::strerror(errno));
            for (pid_t p : pids) kill(p, SIGKILL);
            for (pid_t p : pids) waitpid(p, nullptr, 0);
            return 1;
        }
        if (pid == 0) {
            // A launcher that dies (killed, say) takes its ranks with it instead of orphaning them.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() == 1) _exit(1);
            setenv("RANK", std::to_string(r).c_str(), 1);
            setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
            setenv("WORLD_SIZE", std::to_string(n).c_str(), 1);
            setenv("MASTER_ADDR", "127.0.0.1", 1);
            setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            std::vector<char *> argv;
            for (const auto & s : args) argv.push_back(const_cast<char *>(s.c_str()));
            argv.push_back(nullptr);
            execv("/proc/self/exe", argv.data());
            std::fprintf(stderr, "%s: exec: %s\n", who.c_str(), std::strerror(errno));
            _exit(127);
        }
        pids.push_back(pid);
    }
    auto rank_of = [&](pid_t p) {
        for (int r = 0; r < n; ++r)
            if (pids[size_t(r)] == p) return r;
        return -1;
    };
    std::vector<int> status(size_t(n), -1);
    int              left = n;
    // Waits for each rank; the first failure stops the job (the others would block in a collective
    // until the Gloo timeout, or finish a run that can no longer be whole).
    while (left > 0) {
        int   st  = 0;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        const int r = rank_of(pid);
        if (r < 0) continue;
        status[size_t(r)] = st;
        --left;
        if (!failed(st)) continue;
        // Ranks that failed at the same moment (a crash makes its peers fail right after) are
        // collected for a moment, so the one to blame is the one a signal killed, if any.
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
        while (left > 0 && std::chrono::steady_clock::now() < until) {
            pid_t q = waitpid(-1, &st, WNOHANG);
            if (q > 0 && rank_of(q) >= 0) {
                status[size_t(rank_of(q))] = st;
                --left;
            } else std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        int culprit = r;
        for (int k = 0; k < n; ++k)
            if (status[size_t(k)] != -1 && WIFSIGNALED(status[size_t(k)])) {
                culprit = k;
                break;
            }
        const int cs = status[size_t(culprit)];
        std::fprintf(stderr, "%s: rank %d of %d %s; stopping the other ranks\n", who.c_str(), culprit, n,
                     describe(cs).c_str());
        for (int k = 0; k < n; ++k)
            if (status[size_t(k)] == -1) kill(pids[size_t(k)], SIGTERM);
        const auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (left > 0) {
            pid_t q = waitpid(-1, &st, WNOHANG);
            if (q > 0 && rank_of(q) >= 0) {
                status[size_t(rank_of(q))] = st;
                --left;
                continue;
            }
            if (std::chrono::steady_clock::now() > hard)
                for (int k = 0; k < n; ++k)
                    if (status[size_t(k)] == -1) kill(pids[size_t(k)], SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        // The failed rank's own exit status, or 128 + its signal as a shell reports one.
        return WIFSIGNALED(cs) ? 128 + WTERMSIG(cs) : WEXITSTATUS(cs);
    }
    return 0;
}

}  // namespace

Result<DistStart> start_dist(const DistArgs & a, const CLI::App & cmd, const std::string & who) {
    DistStart s;
    auto      p = model::dist_params_from_env();
    if (!p) return p.error();
    if (cmd.count("--dist-timeout") || !std::getenv("GRM_DIST_TIMEOUT")) p->timeout_s = a.timeout_s;
    if (!std::getenv("WORLD_SIZE") || p->world == 1) {
        if (a.nproc > 1) s.exit_code = launch(a.nproc, who);
        return s;
    }
    if (cmd.count("--nproc") && a.nproc != p->world)
        return make_error(Errc::invalid_argument, "--nproc " + std::to_string(a.nproc) + " differs from WORLD_SIZE=" +
                                                      std::to_string(p->world));
    auto d = model::Dist::connect(*p);
    if (!d) return d.error();
    s.dist = *d;
    return s;
}

}  // namespace grm::cli
