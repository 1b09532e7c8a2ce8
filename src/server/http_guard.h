// cpp-httplib's Server with grm's own per-connection loop, so that slow or stalled clients cannot
// starve the others, and with the facts the error handler needs to tell 408/414/431/501 apart.
//
// cpp-httplib 0.11 reads a request on a worker thread of its pool with a per-read timeout only:
// a client that sends half a request and stalls (or trickles a byte now and then) holds a thread
// for as long as it likes, and --http-threads such clients block every endpoint. Here:
//  - each request must arrive whole (request line, headers, body) within `read_timeout_s` of its
//    first byte; an idle keep-alive connection is closed after `keep_alive_s`;
//  - a connection is "reading" from the moment it waits for a request until its handler has the
//    whole body; when a new connection waits for a worker and none is idle, the connection that has
//    been reading longest is shut down (evicted) and its worker serves the newcomer. Connections
//    whose request is being handled (a judgment in progress) are never evicted.
// So stalled clients only ever hold the workers nobody else is waiting for.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

namespace grm::server {

struct HttpLimits {
    int    threads          = 256;       // worker threads: connections handled at once
    double read_timeout_s   = 10.0;      // a whole request, from its first byte
    double keep_alive_s     = 5.0;       // idle wait for the next request on a connection
    double write_timeout_s  = 60.0;      // per write of a reply
    size_t max_header_bytes = 64 << 10;  // request line + headers; beyond it the connection is closed
};

// What reading the calling thread's current request ran into.
struct ReadFacts {
    std::string method;                    // first token of the request line as sent (up to 32 bytes)
    bool        timed_out        = false;  // read_timeout_s passed
    bool        header_too_large = false;  // a header line over 8 KiB, or all headers over max_header_bytes
    bool        close            = false;  // close the connection after this reply
};

class ConnectionPool;

class GuardedHttpServer : public httplib::Server {
  public:
    explicit GuardedHttpServer(HttpLimits limits);
    ~GuardedHttpServer() override;

    // Both for the request being handled on the calling thread (handlers, error handler).
    static ReadFacts & facts();
    // The request has been read in full: its connection is no longer evictable.
    static void request_read();

    size_t evictions() const { return evictions_.load(); }

  private:
    bool process_and_close_socket(socket_t sock) override;

    HttpLimits          limits_;
    ConnectionPool *    pool_ = nullptr;  // owned by cpp-httplib's listen loop (new_task_queue)
    std::atomic<size_t> evictions_{ 0 };
};

}  // namespace grm::server
