// Black-box harness for `grm serve`: the real binary as a subprocess on 127.0.0.1 and a JSON
// client (the fixture models it serves are in common/fixtures.h).
#pragma once

#include "common/fixtures.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>
#include <sys/types.h>
#include <vector>

namespace grm::test {


class ServeProcess {
  public:
    // Starts `<build>/tools/grm/grm serve --model M --port 0 --port-file F <extra>` and waits
    // (bounded) until /health answers. Throws with the log tail when it does not come up.
    ServeProcess(const std::string & model, const std::vector<std::string> & extra = {});
    ~ServeProcess();

    int  port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string log() const;

    httplib::Client client(double timeout_s = 60) const;
    // POST JSON; returns the status (-1 on connection failure) and the parsed body (null if not JSON).
    std::pair<int, nlohmann::json> post(const std::string & path, const std::string & body,
                                        const httplib::Headers & headers = {}, double timeout_s = 60) const;
    std::pair<int, nlohmann::json> post(const std::string & path, const nlohmann::json & body) const {
        return post(path, body.dump());
    }
    std::pair<int, std::string> get(const std::string & path, const httplib::Headers & headers = {}) const;

    // SIGTERM, then wait up to `timeout_s` for exit; returns the exit status (-1 if it had to be killed).
    int terminate(double timeout_s = 30);
    // Waits (without signalling) up to `timeout_s` for exit; the exit status, or -1 on timeout.
    int  wait_exit(double timeout_s);
    bool alive();

  private:
    pid_t       pid_  = -1;
    int         port_ = 0;
    std::string dir_;
};

}  // namespace grm::test
