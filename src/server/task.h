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

// One request's control, shared by all its tasks: due timeout_s seconds after t0 (its arrival).
inline std::shared_ptr<TaskControl> task_control(Clock::time_point t0, double timeout_s) {
    auto c      = std::make_shared<TaskControl>();
    c->deadline = t0 + std::chrono::microseconds((long long) (timeout_s * 1e6));
    return c;
}

// What a request may choose per judgment (the rest of JudgeParams is the server's, fixed at
// start-up); tasks whose choices agree share one judge_batch call.
inline bool same_request_options(const JudgeParams & a, const JudgeParams & b) {
    auto key = [](const JudgeParams & p) {
        return std::tie(p.k, p.k_meta, p.seed, p.clip_scores, p.sampling.temperature, p.sampling.top_p,
                        p.sampling.max_tokens);
    };
    return key(a) == key(b);
}

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
    JudgeParams                  params;
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
