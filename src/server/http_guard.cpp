// Per-connection loop with a read deadline, and the worker pool that evicts stalled readers.
#include "server/http_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace grm::server {

using Clock = std::chrono::steady_clock;

// cpp-httplib fails a header line longer than this (CPPHTTPLIB_HEADER_MAX_LENGTH, compiled into
// the shared library) with a plain 400; seeing it here lets the error handler say 431.
constexpr size_t k_httplib_header_line_max = 8192;

// Worker threads for connections, with the registry of connections that are reading.
class ConnectionPool : public httplib::TaskQueue {
  public:
    ConnectionPool(size_t threads, std::atomic<size_t> & evictions) : evictions_(evictions) {
        for (size_t i = 0; i < threads; i++) threads_.emplace_back([this] { work(); });
    }
    ~ConnectionPool() override { shutdown(); }

    void enqueue(std::function<void()> fn) override {
        std::lock_guard<std::mutex> lock(m_);
        jobs_.push_back(std::move(fn));
        cv_.notify_one();
        evict_if_starved(-1);
    }

    void shutdown() override {
        {
            std::lock_guard<std::mutex> lock(m_);
            if (shutdown_) return;
            shutdown_ = true;
            // nobody is served any more: connections still waiting for a request go now
            for (const auto & r : readers_) ::shutdown(r.first, SHUT_RDWR);
            readers_.clear();
        }
        cv_.notify_all();
        for (auto & t : threads_) t.join();
    }

    // `fd` waits for, or reads, a request from now on; it may be evicted.
    void reading(int fd) {
        std::lock_guard<std::mutex> lock(m_);
        readers_[fd] = Clock::now();
        // a worker that just took a job and finds more jobs than idle workers frees one more:
        // a burst of stalled connections in the queue is worked through at once
        evict_if_starved(fd);
    }
    // `fd`'s request has been read (or it is closing): never evicted from here on.
    void not_reading(int fd) {
        std::lock_guard<std::mutex> lock(m_);
        readers_.erase(fd);
    }

  private:
    // Under m_. More queued connections than idle workers: shut down the longest-reading
    // connection (not `self`); its worker's read fails, it closes and takes the next job.
    void evict_if_starved(int self) {
        if (jobs_.size() <= idle_) return;
        auto oldest = readers_.end();
        for (auto it = readers_.begin(); it != readers_.end(); ++it) {
            if (it->first != self && (oldest == readers_.end() || it->second < oldest->second)) oldest = it;
        }
        if (oldest == readers_.end()) return;
        ::shutdown(oldest->first, SHUT_RDWR);
        readers_.erase(oldest);
        evictions_++;
    }

    void work() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock<std::mutex> lock(m_);
                while (jobs_.empty() && !shutdown_) {
                    idle_++;
                    cv_.wait(lock);
                    idle_--;
                }
                if (jobs_.empty()) return;  // shut down and drained
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();
        }
    }

    std::mutex                        m_;
    std::condition_variable           cv_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread>          threads_;
    size_t                            idle_     = 0;
    bool                              shutdown_ = false;
    std::map<int, Clock::time_point>  readers_;  // fd -> reading since
    std::atomic<size_t> &             evictions_;
};

namespace {

struct ThreadConnection {
    ReadFacts *      facts = nullptr;
    ConnectionPool * pool  = nullptr;
    int              fd    = -1;
};
thread_local ThreadConnection t_conn;

int ms_until(Clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
    return ms <= 0 ? 0 : (int) std::min<long long>(ms, 1 << 30);
}

// Waits for `events` on fd until the deadline; true when ready (or hung up: the next call says).
bool wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        int    wait = ms_until(deadline);
        pollfd p{ fd, events, 0 };
        int    r    = poll(&p, 1, wait);
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
}

void address(const sockaddr_storage & a, std::string & ip, int & port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
        const auto * s = (const sockaddr_in *) &a;
        inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
        port = ntohs(s->sin_port);
    } else if (a.ss_family == AF_INET6) {
        const auto * s = (const sockaddr_in6 *) &a;
        inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
        port = ntohs(s->sin6_port);
    }
    ip = buf;
}

// A connection's socket as cpp-httplib's Stream: buffered reads against the request's deadline,
// and a look at the request line and headers as they pass.
class DeadlineStream : public httplib::Stream {
  public:
    DeadlineStream(int fd, const HttpLimits & limits, ReadFacts & facts) : fd_(fd), limits_(limits), facts_(facts) {}

    void begin_request() {
        deadline_         = Clock::now() + std::chrono::microseconds((long long) (limits_.read_timeout_s * 1e6));
        in_headers_       = true;
        first_line_       = true;
        first_line_space_ = false;
        over_budget_      = false;
        line_len_         = 0;
        header_bytes_     = 0;
    }
    // Waits (until `deadline`) for the first byte of the next request; false when none came.
    bool wait_request(Clock::time_point deadline) {
        if (off_ < len_) return true;
        if (!wait_fd(fd_, POLLIN, deadline)) return false;
        char    c;
        ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n > 0;
    }

    bool is_readable() const override { return off_ < len_ || wait_fd(fd_, POLLIN, deadline_); }
    bool is_writable() const override { return wait_fd(fd_, POLLOUT, write_deadline()); }

    ssize_t read(char * ptr, size_t size) override {
        if (over_budget_) return -1;
        if (off_ == len_) {
            if (!wait_fd(fd_, POLLIN, deadline_)) {
                facts_.timed_out = true;
                return -1;
            }
            ssize_t n;
            do n = recv(fd_, buf_, sizeof buf_, 0);
            while (n < 0 && errno == EINTR);
            if (n <= 0) return n;
            off_ = 0;
            len_ = (size_t) n;
        }
        size_t n = std::min(size, len_ - off_);
        if (in_headers_) n = observe_headers(n);
        std::memcpy(ptr, buf_ + off_, n);
        off_ += n;
        return (ssize_t) n;
    }

    ssize_t write(const char * ptr, size_t size) override {
        if (!wait_fd(fd_, POLLOUT, write_deadline())) return -1;
        ssize_t n;
        do n = send(fd_, ptr, size, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n;
    }

    void get_remote_ip_and_port(std::string & ip, int & port) const override {
        sockaddr_storage a{};
        socklen_t        l = sizeof a;
        if (getpeername(fd_, (sockaddr *) &a, &l) == 0) address(a, ip, port);
    }
    void get_local_ip_and_port(std::string & ip, int & port) const override {
        sockaddr_storage a{};
        socklen_t        l = sizeof a;
        if (getsockname(fd_, (sockaddr *) &a, &l) == 0) address(a, ip, port);
    }
    socket_t socket() const override { return fd_; }

  private:
    Clock::time_point write_deadline() const {
        return Clock::now() + std::chrono::microseconds((long long) (limits_.write_timeout_s * 1e6));
    }

    // Looks at up to n bytes from buf_[off_] on their way to cpp-httplib's line reader; returns
    // how many may pass (fewer once the header budget is spent, which makes the read fail).
    size_t observe_headers(size_t n) {
        for (size_t i = 0; i < n; i++) {
            char c = buf_[off_ + i];
            if (++header_bytes_ > limits_.max_header_bytes) {
                facts_.header_too_large = true;
                over_budget_            = true;
                return i;
            }
            line_len_++;
            if (first_line_ && c == ' ') first_line_space_ = true;
            if (first_line_ && !first_line_space_ && facts_.method.size() < 32 && c != '\r' && c != '\n') {
                facts_.method += c;
            }
            if (c != '\n') continue;
            if (!first_line_ && line_len_ > k_httplib_header_line_max) facts_.header_too_large = true;
            if (!first_line_ && line_len_ <= 2) {  // the blank line: the body follows
                in_headers_ = false;
                return i + 1;
            }
            first_line_ = false;
            line_len_   = 0;
        }
        return n;
    }

    int                fd_;
    const HttpLimits & limits_;
    ReadFacts &        facts_;
    Clock::time_point  deadline_;
    char               buf_[16 << 10];
    size_t             off_ = 0, len_ = 0;
    bool               in_headers_ = true, first_line_ = true, first_line_space_ = false, over_budget_ = false;
    size_t             line_len_ = 0, header_bytes_ = 0;
};

}  // namespace

GuardedHttpServer::GuardedHttpServer(HttpLimits limits) : limits_(limits) {
    size_t threads = (size_t) std::max(2, limits_.threads);
    new_task_queue = [this, threads] {
        pool_ = new ConnectionPool(threads, evictions_);
        return pool_;
    };
}

GuardedHttpServer::~GuardedHttpServer() = default;

ReadFacts & GuardedHttpServer::facts() {
    static thread_local ReadFacts none;
    return t_conn.facts ? *t_conn.facts : none;
}

void GuardedHttpServer::request_read() {
    if (t_conn.pool) t_conn.pool->not_reading(t_conn.fd);
}

bool GuardedHttpServer::process_and_close_socket(socket_t sock) {
    ReadFacts      facts;
    DeadlineStream strm(sock, limits_, facts);
    t_conn = { &facts, pool_, sock };
    auto after = [](double s) { return Clock::now() + std::chrono::microseconds((long long) (s * 1e6)); };

    bool              ret  = false;
    Clock::time_point idle = after(limits_.read_timeout_s);  // a new connection must start its request in time
    for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; left--) {
        pool_->reading(sock);
        if (!strm.wait_request(idle)) break;  // idle too long, closed, or evicted
        facts = ReadFacts{};
        strm.begin_request();
        bool closed = false;
        ret         = process_request(strm, left == 1, closed, nullptr);
        if (!ret || closed || facts.close || facts.timed_out || facts.header_too_large) break;
        idle = after(limits_.keep_alive_s);
    }
    pool_->not_reading(sock);
    t_conn = {};
    if (facts.close || facts.header_too_large) {
        // Replied early: the client may still be sending. Closing with unread input would reset
        // the connection and could discard the reply before the client reads it, so read what
        // it sends a little longer (bounded) after saying we are done.
        ::shutdown(sock, SHUT_WR);
        auto   until = after(0.5);
        size_t left  = 1 << 20;
        char   sink[4096];
        while (left > 0 && wait_fd(sock, POLLIN, until)) {
            ssize_t n = recv(sock, sink, sizeof sink, 0);
            if (n <= 0) break;
            left -= std::min(left, (size_t) n);
        }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ret;
}

}  // namespace grm::server
