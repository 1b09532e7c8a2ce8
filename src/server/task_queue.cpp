// Bounded task queue: all-or-nothing pushes, batch pops with a short coalescing window.
#include "server/task_queue.h"

namespace grm::server {

bool TaskQueue::try_push(std::vector<Task> & tasks) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closed_ || tasks_.size() + tasks.size() > capacity_) return false;
        for (auto & t : tasks) tasks_.push_back(std::move(t));
    }
    tasks.clear();
    ready_.notify_one();
    return true;
}

std::vector<Task> TaskQueue::pop_batch(size_t max_tasks, std::chrono::microseconds window) {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return !tasks_.empty() || closed_; });
    if (tasks_.empty()) return {};
    // Requests that arrive together (a GRPO group, concurrent clients) should share one engine call;
    // a short wait after the first costs little next to a generation.
    if (window.count() > 0 && tasks_.size() < max_tasks && !closed_) {
        ready_.wait_for(lock, window, [&] { return tasks_.size() >= max_tasks || closed_; });
    }
    std::vector<Task> out;
    while (!tasks_.empty() && out.size() < max_tasks) {
        out.push_back(std::move(tasks_.front()));
        tasks_.pop_front();
    }
    return out;
}

void TaskQueue::close() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
    }
    ready_.notify_all();
}

bool TaskQueue::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
}

size_t TaskQueue::size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return tasks_.size();
}

}  // namespace grm::server
