// Server counters, rendered in the Prometheus text exposition format for GET /metrics.
#pragma once

#include "core/judge.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace grm::server {

class Metrics {
  public:
    // One finished HTTP exchange; `endpoint` is a registered path or "other".
    void observe_request(const std::string & endpoint, int status, double seconds);
    // One engine call of the inference loop.
    void observe_batch(int tasks, double seconds, long long prompt_tokens, long long completion_tokens,
                       int samples);
    // One judgment handed back (per sample of a /get_reward batch, too).
    void observe_judgment(const Judgment & j);
    void observe_rejected_queue_full() { queue_full_.fetch_add(1); }

    double mean_batch_seconds() const;

    std::string render(size_t queue_depth, size_t queue_capacity, int in_flight) const;

  private:
    static constexpr std::array<double, 14> k_latency_buckets = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                  1.0,   2.5,  5.0,   10.0, 30.0, 60.0, 120.0 };
    struct Histogram {
        std::array<uint64_t, k_latency_buckets.size()> buckets{};
        uint64_t count = 0;
        double   sum   = 0;
    };

    mutable std::mutex                            mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    std::map<std::string, Histogram>               latency_;
    Histogram                                      batch_latency_;
    uint64_t                                       batches_ = 0, batch_tasks_ = 0;
    uint64_t                                       samples_ = 0;
    uint64_t                                       prompt_tokens_ = 0, completion_tokens_ = 0;
    double                                         engine_seconds_ = 0;
    uint64_t                                       judgments_ = 0, judgments_unscorable_ = 0;
    uint64_t                                       judge_samples_ = 0;
    std::map<std::string, uint64_t>                unscorable_;
    std::atomic<uint64_t>                          queue_full_{ 0 };
};

}  // namespace grm::server
