// Prometheus text rendering of the server counters.
#include "server/metrics.h"

#include "core/parse.h"

#include <sstream>

namespace grm::server {

namespace {

void add(std::array<uint64_t, 14> & buckets, uint64_t & count, double & sum, double v,
         const std::array<double, 14> & bounds) {
    for (size_t i = 0; i < bounds.size(); i++) {
        if (v <= bounds[i]) buckets[i]++;
    }
    count++;
    sum += v;
}

}  // namespace

void Metrics::observe_request(const std::string & endpoint, int status, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_[{ endpoint, status }]++;
    Histogram & h = latency_[endpoint];
    add(h.buckets, h.count, h.sum, seconds, k_latency_buckets);
}

void Metrics::observe_batch(int tasks, double seconds, long long prompt_tokens, long long completion_tokens,
                            int samples) {
    std::lock_guard<std::mutex> lock(mutex_);
    batches_++;
    batch_tasks_ += tasks;
    add(batch_latency_.buckets, batch_latency_.count, batch_latency_.sum, seconds, k_latency_buckets);
    engine_seconds_ += seconds;
    prompt_tokens_ += prompt_tokens;
    completion_tokens_ += completion_tokens;
    samples_ += samples;
}

void Metrics::observe_judgment(const Judgment & j) {
    std::lock_guard<std::mutex> lock(mutex_);
    judgments_++;
    if (j.n_voted == 0) judgments_unscorable_++;
    judge_samples_ += j.samples.size();
    for (const auto & t : j.samples) {
        if (!t.parsed.ok()) unscorable_[unscorable_name(t.parsed.reason)]++;
    }
}

double Metrics::mean_batch_seconds() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return batches_ ? engine_seconds_ / batches_ : 0.0;
}

std::string Metrics::render(size_t queue_depth, size_t queue_capacity, int in_flight) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ostringstream o;
    auto histogram = [&](const std::string & name, const std::string & labels, const Histogram & h) {
        std::string sep = labels.empty() ? "" : ",";
        for (size_t i = 0; i < k_latency_buckets.size(); i++) {
            o << name << "_bucket{" << labels << sep << "le=\"" << k_latency_buckets[i] << "\"} " << h.buckets[i] << "\n";
        }
        o << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << h.count << "\n";
        std::string l = labels.empty() ? "" : "{" + labels + "}";
        o << name << "_sum" << l << " " << h.sum << "\n" << name << "_count" << l << " " << h.count << "\n";
    };

    o << "# HELP grm_http_requests_total HTTP requests answered, by endpoint and status.\n"
      << "# TYPE grm_http_requests_total counter\n";
    for (const auto & [k, v] : requests_) {
        o << "grm_http_requests_total{endpoint=\"" << k.first << "\",status=\"" << k.second << "\"} " << v << "\n";
    }
    o << "# HELP grm_http_request_duration_seconds Time from routing to response, by endpoint.\n"
      << "# TYPE grm_http_request_duration_seconds histogram\n";
    for (const auto & [endpoint, h] : latency_) histogram("grm_http_request_duration_seconds", "endpoint=\"" + endpoint + "\"", h);

    o << "# HELP grm_queue_depth Tasks (judgments, generation requests) waiting for the engine.\n"
      << "# TYPE grm_queue_depth gauge\ngrm_queue_depth " << queue_depth << "\n"
      << "# HELP grm_queue_capacity Queue size beyond which requests get 429.\n"
      << "# TYPE grm_queue_capacity gauge\ngrm_queue_capacity " << queue_capacity << "\n"
      << "# HELP grm_requests_in_flight HTTP requests being handled.\n"
      << "# TYPE grm_requests_in_flight gauge\ngrm_requests_in_flight " << in_flight << "\n"
      << "# HELP grm_queue_full_total Requests refused with 429 because the queue was full.\n"
      << "# TYPE grm_queue_full_total counter\ngrm_queue_full_total " << queue_full_.load() << "\n";

    o << "# HELP grm_engine_batches_total Engine calls made by the inference loop.\n"
      << "# TYPE grm_engine_batches_total counter\ngrm_engine_batches_total " << batches_ << "\n"
      << "# HELP grm_engine_batch_tasks_total Tasks run in those calls (divide by batches for the mean batch size).\n"
      << "# TYPE grm_engine_batch_tasks_total counter\ngrm_engine_batch_tasks_total " << batch_tasks_ << "\n"
      << "# HELP grm_engine_batch_duration_seconds Duration of one engine call.\n"
      << "# TYPE grm_engine_batch_duration_seconds histogram\n";
    histogram("grm_engine_batch_duration_seconds", "", batch_latency_);
    o << "# HELP grm_samples_generated_total Generations (judgment samples and completion choices) produced.\n"
      << "# TYPE grm_samples_generated_total counter\ngrm_samples_generated_total " << samples_ << "\n"
      << "# HELP grm_prompt_tokens_total Prompt tokens processed.\n"
      << "# TYPE grm_prompt_tokens_total counter\ngrm_prompt_tokens_total " << prompt_tokens_ << "\n"
      << "# HELP grm_completion_tokens_total Tokens generated.\n"
      << "# TYPE grm_completion_tokens_total counter\ngrm_completion_tokens_total " << completion_tokens_ << "\n"
      << "# HELP grm_engine_seconds_total Seconds spent in engine calls.\n"
      << "# TYPE grm_engine_seconds_total counter\ngrm_engine_seconds_total " << engine_seconds_ << "\n"
      << "# HELP grm_tokens_per_second Generated tokens per engine-busy second since start.\n"
      << "# TYPE grm_tokens_per_second gauge\ngrm_tokens_per_second "
      << (engine_seconds_ > 0 ? completion_tokens_ / engine_seconds_ : 0.0) << "\n";

    o << "# HELP grm_judgments_total Judgments returned.\n"
      << "# TYPE grm_judgments_total counter\ngrm_judgments_total " << judgments_ << "\n"
      << "# HELP grm_judgments_unscorable_total Judgments with no scorable sample (no reward).\n"
      << "# TYPE grm_judgments_unscorable_total counter\ngrm_judgments_unscorable_total " << judgments_unscorable_ << "\n"
      << "# HELP grm_judge_samples_total Judgment samples parsed.\n"
      << "# TYPE grm_judge_samples_total counter\ngrm_judge_samples_total " << judge_samples_ << "\n"
      << "# HELP grm_judge_samples_unscorable_total Unscorable judgment samples, by reason.\n"
      << "# TYPE grm_judge_samples_unscorable_total counter\n";
    uint64_t bad = 0;
    for (const auto & [reason, v] : unscorable_) {
        o << "grm_judge_samples_unscorable_total{reason=\"" << reason << "\"} " << v << "\n";
        bad += v;
    }
    o << "# HELP grm_unscorable_rate Fraction of judgment samples that were unscorable since start.\n"
      << "# TYPE grm_unscorable_rate gauge\ngrm_unscorable_rate "
      << (judge_samples_ ? double(bad) / judge_samples_ : 0.0) << "\n";
    return o.str();
}

}  // namespace grm::server
