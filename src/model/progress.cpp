// Progress bar rendering.
#include "model/progress.h"

#include <cstdio>

namespace grm::model {

std::string format_duration(double seconds) {
    const auto s = int64_t(seconds + 0.5);
    char       buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long) (s / 3600), (long long) (s / 60 % 60));
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long) (s / 60), (long long) (s % 60));
    else
        std::snprintf(buf, sizeof buf, "%llds", (long long) s);
    return buf;
}

ProgressBar::ProgressBar(int64_t first, int64_t total, bool enabled)
    : first_(first), total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t done, double loss, double tokens_per_s) {
    if (!enabled_) return;
    constexpr int width   = 30;
    const double  frac    = total_ > 0 ? double(done) / double(total_) : 1.0;
    const int     filled  = int(frac * width);
    const double  elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double  per     = done > first_ ? elapsed / double(done - first_) : 0.0;
    std::string   bar(size_t(filled), '=');
    if (filled < width) bar += '>' + std::string(size_t(width - filled - 1), ' ');
    std::fprintf(stderr, "\r[%s] %lld/%lld loss %.4f  %.0f tok/s  ETA %s   ", bar.c_str(), (long long) done,
                 (long long) total_, loss, tokens_per_s, format_duration(per * double(total_ - done)).c_str());
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (enabled_) std::fprintf(stderr, "\n");
}

}  // namespace grm::model
