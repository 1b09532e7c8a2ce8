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
    // Each task carries its full JudgeParams. The engine and the meta scorer (nullptr: none) are
    // used by this loop's thread only (neither is thread-safe).
    InferenceLoop(Engine & engine, TaskQueue & queue, Metrics & metrics, MetaScorer * meta, size_t max_batch,
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
    MetaScorer * meta_;
    size_t      max_batch_;
    double      batch_window_ms_;
    std::thread thread_;
};

}  // namespace grm::server
