// A one-line progress bar on stderr: steps done, loss, tokens/s and ETA, redrawn in place.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace grm::model {

class ProgressBar {
  public:
    // first: the step the run starts at (a resumed run's ETA counts only its own steps).
    ProgressBar(int64_t first, int64_t total, bool enabled);
    void update(int64_t done, double loss, double tokens_per_s);
    void finish();

  private:
    int64_t                               first_, total_;
    bool                                  enabled_;
    std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);  // "1h02m", "3m07s", "12s"

}  // namespace grm::model
