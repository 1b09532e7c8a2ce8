// A one-line progress bar on stderr (only when stderr is a terminal, or when forced).
#pragma once

#include <chrono>
#include <string>

namespace grm::cli {

class Progress {
  public:
    Progress(long total, std::string unit, bool force = false);
    void update(long done, const std::string & extra = "");
    void finish();

  private:
    long                                  total_;
    std::string                           unit_;
    bool                                  enabled_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace grm::cli
