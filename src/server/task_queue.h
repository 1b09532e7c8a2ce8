// Bounded multi-producer queue between HTTP handlers and the single inference loop.
// A push is all-or-nothing (a /get_reward batch never half-enters), so a full queue means 429.
#pragma once

#include "server/task.h"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace grm::server {

class TaskQueue {
  public:
    explicit TaskQueue(size_t capacity) : capacity_(capacity) {}

    // false when the tasks do not all fit or the queue is closed; the tasks are then left untouched.
    bool try_push(std::vector<Task> & tasks);

    // Blocks until a task is waiting (or the queue is closed and empty: returns nothing), then waits
    // up to `window` for more to arrive and takes up to `max_tasks`.
    std::vector<Task> pop_batch(size_t max_tasks, std::chrono::microseconds window);

    // No more pushes; pop_batch keeps returning what is left, then nothing.
    void   close();
    bool   closed() const;
    size_t size() const;
    size_t capacity() const { return capacity_; }

  private:
    const size_t            capacity_;
    mutable std::mutex      mutex_;
    std::condition_variable ready_;
    std::deque<Task>        tasks_;
    bool                    closed_ = false;
};

}  // namespace grm::server
