// Client-disconnect detection: locate the connection's socket, then poll it for hang-up.
#include "server/connection_watch.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace grm::server {

namespace {

bool endpoint_matches(const sockaddr_storage & a, const std::string & addr, int port) {
    char buf[INET6_ADDRSTRLEN] = {};
    int  p                     = -1;
    if (a.ss_family == AF_INET) {
        const auto * s = (const sockaddr_in *) &a;
        inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
        p = ntohs(s->sin_port);
    } else if (a.ss_family == AF_INET6) {
        const auto * s = (const sockaddr_in6 *) &a;
        inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
        p = ntohs(s->sin6_port);
    } else {
        return false;
    }
    return p == port && addr == buf;
}

// The socket whose peer is (remote_addr, remote_port) and whose local port is local_port. While a
// handler runs, cpp-httplib keeps that socket open on the handler's thread, so the fd is stable.
int find_socket(const std::string & remote_addr, int remote_port, const std::string & local_addr, int local_port) {
    DIR * d = opendir("/proc/self/fd");
    if (!d) return -1;
    int found = -1;
    while (dirent * e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        int         fd = std::atoi(e->d_name);
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        sockaddr_storage peer{}, self{};
        socklen_t        pl = sizeof peer, sl = sizeof self;
        if (getpeername(fd, (sockaddr *) &peer, &pl) != 0 || getsockname(fd, (sockaddr *) &self, &sl) != 0) continue;
        if (endpoint_matches(peer, remote_addr, remote_port) && endpoint_matches(self, local_addr, local_port)) {
            found = fd;
            break;
        }
    }
    closedir(d);
    return found;
}

}  // namespace

void raise_listen_backlog(int port, int backlog) {
    DIR * d = opendir("/proc/self/fd");
    if (!d) return;
    while (dirent * e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        int         fd = std::atoi(e->d_name);
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        int       listening = 0;
        socklen_t len       = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
        sockaddr_storage self{};
        socklen_t        sl = sizeof self;
        if (getsockname(fd, (sockaddr *) &self, &sl) != 0) continue;
        int p = self.ss_family == AF_INET    ? ntohs(((sockaddr_in *) &self)->sin_port)
                : self.ss_family == AF_INET6 ? ntohs(((sockaddr_in6 *) &self)->sin6_port)
                                             : -1;
        if (p == port) listen(fd, backlog);
    }
    closedir(d);
}

ConnectionWatch::ConnectionWatch(const httplib::Request & req) : req_(req) {}

bool ConnectionWatch::closed() {
    if constexpr (has_library_check<httplib::Request>(0)) {
        return library_check(req_, 0);
    } else {
        if (!looked_) {
            looked_ = true;
            fd_     = find_socket(req_.remote_addr, req_.remote_port, req_.local_addr, req_.local_port);
        }
        if (fd_ < 0) return false;
        pollfd p{ fd_, POLLIN | POLLRDHUP, 0 };
        if (poll(&p, 1, 0) <= 0) return false;
        if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
        if (p.revents & POLLIN) {
            // readable: either a pipelined request (data) or an orderly close (0 bytes)
            char    c;
            ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
            return n == 0;
        }
        return false;
    }
}

}  // namespace grm::server
