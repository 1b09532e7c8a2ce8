// The one thread that talks to the engine: pops everything waiting (up to a batch limit), runs
// each group of judgments with equal options through grm::judge_batch together, runs plain
// generation requests in one engine call, and fulfils every task's promise.
#pragma once

#include "core/engine.h"
#include "core/judge.h"
#include "server/metrics.h"
#include "server/task_queue.h"

#include <thread>

namespace grm::server {

class InferenceLoop {
  public:
    // `base` carries what requests cannot change (template, shuffle, chat); the engine is used by
    // this loop's thread only (engines are not thread-safe).
    InferenceLoop(Engine & engine, TaskQueue & queue, Metrics & metrics, JudgeParams base, size_t max_batch,
                  double batch_window_ms);
    ~InferenceLoop();

    void start();
    // Returns once the queue is closed and everything in it has been run.
    void join();

  private:
    void run();
    void run_judge_group(std::vector<JudgeTask *> & group, Clock::time_point started);
    void run_generate(std::vector<GenerateTask *> & tasks, Clock::time_point started);

    Engine &    engine_;
    TaskQueue & queue_;
    Metrics &   metrics_;
    JudgeParams base_;
    size_t      max_batch_;
    double      batch_window_ms_;
    std::thread thread_;
};

JudgeParams judge_params(const JudgeParams & base, const JudgeOptions & o);

}  // namespace grm::server
