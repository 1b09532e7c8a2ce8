// The one interface every generation backend implements (llama.cpp in-process, OpenAI-compatible
// HTTP). The judging pipeline only ever talks to this.
#pragma once

#include "core/error.h"
#include "core/sample.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace grm {

struct SamplingParams {
    float                    temperature = 0.5f;  // 0 = greedy
    float                    top_p       = 1.0f;
    int                      top_k       = 0;  // 0 = off
    int                      max_tokens  = 1024;  // a judgment of 4 responses with principles runs past 512
    std::vector<std::string> stop;      // generation ends before the first occurrence
    uint64_t                 seed  = 0;  // without GenerationRequest::seeds: sample i uses stream_seed(seed, engine_sample, 0, i)
    bool                     ignore_eos = false;  // generate exactly max_tokens (benchmarks)
};

enum class FinishReason { stop, length, error };
const char * finish_reason_name(FinishReason r);

struct Generation {
    std::string  text;
    FinishReason finish = FinishReason::stop;
    std::string  error;  // finish == error: why this sample failed (others may still succeed)
    int          prompt_tokens     = 0;
    int          completion_tokens = 0;
};

// One request = k samples. Each sample has its own prompt (position shuffling makes them differ),
// engines share what the prompts have in common (the llama.cpp engine prefills the common token
// prefix once and copies its KV cache to every sample's sequence).
// Set by whoever waits for a request (a server handler whose client left or whose deadline
// passed); engines check it between decode steps and between HTTP calls.
using CancelFlag = std::shared_ptr<const std::atomic<bool>>;
inline bool is_cancelled(const CancelFlag & c) { return c && c->load(std::memory_order_relaxed); }

struct GenerationRequest {
    std::vector<std::string> prompts;     // one per sample
    bool                     chat = true;  // wrap each prompt as a user turn in the model's chat template
    std::vector<Message>     history;      // chat only: the turns before every sample's user turn
    CancelFlag               cancel;       // once true: the request stops early and fails (Errc::cancelled)
    SamplingParams           sampling;
    std::vector<uint64_t>    seeds;  // empty, or one per prompt: sample i's sampler seed (judge_batch sets them)
};

// The sampler seed of sample i: seeds[i], or derived from sampling.seed and i (core/seed.h).
uint64_t sample_seed(const GenerationRequest & request, int i);

using GenerationResult = Result<std::vector<Generation>>;  // one Generation per prompt, in order

class Engine {
  public:
    virtual ~Engine() = default;

    virtual std::string describe() const = 0;  // model and backend, for logs and bench rows

    // Runs several requests together: the engine is free to batch all their samples.
    // A request-level failure (prompt too long, server unreachable) fails only that request.
    virtual std::vector<GenerationResult> generate(const std::vector<GenerationRequest> & requests) = 0;

    GenerationResult generate_one(const GenerationRequest & request) {
        return std::move(generate(std::vector<GenerationRequest>{ request })[0]);
    }
};

}  // namespace grm
