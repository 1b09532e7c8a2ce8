// Native task structs the HTTP edge hands to the inference loop: a judgment or a plain generation,
// each with the promise the loop fulfils and the control block the handler uses to give up.
#pragma once

#include "core/engine.h"
#include "core/judge.h"
#include "core/sample.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <tuple>
#include <variant>
#include <vector>

namespace grm::server {

using Clock = std::chrono::steady_clock;

// Shared by the handler and the loop: the handler sets `cancelled` when its client disconnects or
// the deadline passes, so the loop drops a task it has not started yet.
struct TaskControl {
    std::atomic<bool> cancelled{ false };
    Clock::time_point deadline = Clock::time_point::max();
};

// What a request may choose per judgment; tasks with equal options share one judge_batch call.
struct JudgeOptions {
    int      k           = 1;
    int      k_meta      = 0;
    uint64_t seed        = 0;
    float    temperature = 0.5f;
    float    top_p       = 1.0f;
    int      max_tokens  = 1024;

    auto key() const { return std::tie(k, k_meta, seed, temperature, top_p, max_tokens); }
    bool operator==(const JudgeOptions & o) const { return key() == o.key(); }
};

// How the loop ran a task, reported back in the response's timings.
struct BatchInfo {
    double queue_ms      = 0;  // enqueue -> engine call start
    double inference_ms  = 0;  // the engine call this task was part of
    int    batch_tasks   = 0;  // tasks in that engine call (> 1: batched with other requests)
};

struct JudgeOutcome {
    Result<Judgment> judgment = make_error(Errc::internal, "not run");
    BatchInfo        info;
};

struct GenerateOutcome {
    GenerationResult generations = make_error(Errc::internal, "not run");
    BatchInfo        info;
};

struct JudgeTask {
    Sample                       sample;
    JudgeOptions                 options;
    std::shared_ptr<TaskControl> control;
    std::promise<JudgeOutcome>   done;
    Clock::time_point            enqueued;
};

struct GenerateTask {
    GenerationRequest             request;
    std::shared_ptr<TaskControl>  control;
    std::promise<GenerateOutcome> done;
    Clock::time_point             enqueued;
};

using Task = std::variant<JudgeTask, GenerateTask>;

}  // namespace grm::server
