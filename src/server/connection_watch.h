// Tells a waiting handler that its client has gone away, so the task can be dropped.
// cpp-httplib 0.11 (Debian 12) has no Request::is_connection_closed(); this finds the handler's
// socket by its address pair and peeks at it. Newer cpp-httplib's own check is used when present.
#pragma once

#include <httplib.h>

#include <utility>

namespace grm::server {

class ConnectionWatch {
  public:
    explicit ConnectionWatch(const httplib::Request & req);
    bool closed();

  private:
    template <class R>
    static auto library_check(const R & r, int) -> decltype(r.is_connection_closed(), bool()) {
        return r.is_connection_closed();
    }
    template <class R>
    static bool library_check(const R &, long) { return false; }
    template <class R>
    static constexpr auto has_library_check(int) -> decltype(std::declval<R>().is_connection_closed(), true) {
        return true;
    }
    template <class R>
    static constexpr bool has_library_check(long) { return false; }

    const httplib::Request & req_;
    int                      fd_     = -1;
    bool                     looked_ = false;
};

// cpp-httplib 0.11 listens with a backlog of 5 (a compile-time constant of the shared library):
// a burst of clients overflows it, their first bytes arrive seconds late and the connection is
// dropped unanswered. Linux lets listen() be called again on the socket to raise the backlog.
void raise_listen_backlog(int port, int backlog);

}  // namespace grm::server
