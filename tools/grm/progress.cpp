// Progress bar: done/total, rate and ETA on one rewritten stderr line.
#include "progress.h"

#include <cstdio>
#include <unistd.h>

namespace grm::cli {

Progress::Progress(long total, std::string unit, bool force)
    : total_(total), unit_(std::move(unit)), enabled_(force || isatty(2)), start_(std::chrono::steady_clock::now()) {}

void Progress::update(long done, const std::string & extra) {
    if (!enabled_ || total_ <= 0) return;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double rate = secs > 0 ? done / secs : 0;
    double eta  = rate > 0 ? (total_ - done) / rate : 0;
    int    fill = (int) (30.0 * done / total_);
    std::string bar(fill, '#');
    bar.resize(30, ' ');
    std::fprintf(stderr, "\r[%s] %ld/%ld %s  %.2f/s  ETA %.0fs %s   ", bar.c_str(), done, total_, unit_.c_str(), rate, eta, extra.c_str());
    std::fflush(stderr);
}

void Progress::finish() {
    if (enabled_ && total_ > 0) std::fputc('\n', stderr);
}

}  // namespace grm::cli
