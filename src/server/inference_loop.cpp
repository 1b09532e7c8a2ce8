// The inference loop: batch pop, drop abandoned tasks, group by options, judge_batch, fulfil.
#include "server/inference_loop.h"

#include <exception>

namespace grm::server {

namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

void set_error(JudgeOutcome & o, Error e) { o.judgment = std::move(e); }
void set_error(GenerateOutcome & o, Error e) { o.generations = std::move(e); }

// A task whose client left or whose deadline passed is answered without running it.
template <class T, class Outcome>
bool drop_if_abandoned(T & task, Clock::time_point now) {
    if (task.control->cancelled.load()) {
        Outcome o;
        o.info.queue_ms = ms_between(task.enqueued, now);
        set_error(o, make_error(Errc::cancelled, "request cancelled before it ran"));
        task.done.set_value(std::move(o));
        return true;
    }
    if (now > task.control->deadline) {
        Outcome o;
        o.info.queue_ms = ms_between(task.enqueued, now);
        set_error(o, make_error(Errc::timeout, "deadline passed while queued"));
        task.done.set_value(std::move(o));
        return true;
    }
    return false;
}

}  // namespace

InferenceLoop::InferenceLoop(Engine & engine, TaskQueue & queue, Metrics & metrics, MetaScorer * meta,
                             size_t max_batch, double batch_window_ms)
    : engine_(engine), queue_(queue), metrics_(metrics), meta_(meta), max_batch_(max_batch),
      batch_window_ms_(batch_window_ms) {}

InferenceLoop::~InferenceLoop() {
    if (thread_.joinable()) {
        queue_.close();
        thread_.join();
    }
}

void InferenceLoop::start() { thread_ = std::thread([this] { run(); }); }

void InferenceLoop::join() {
    if (thread_.joinable()) thread_.join();
}

void InferenceLoop::run() {
    const auto window = std::chrono::microseconds((long long) (batch_window_ms_ * 1000.0));
    for (;;) {
        std::vector<Task> batch = queue_.pop_batch(max_batch_, window);
        if (batch.empty()) return;  // closed and drained
        Clock::time_point now = Clock::now();

        // Judgments grouped by options in arrival order; generation requests together.
        std::vector<std::vector<JudgeTask *>> groups;
        std::vector<GenerateTask *>           gens;
        for (Task & t : batch) {
            if (auto * j = std::get_if<JudgeTask>(&t)) {
                if (drop_if_abandoned<JudgeTask, JudgeOutcome>(*j, now)) continue;
                auto g = groups.begin();
                while (g != groups.end() && !same_request_options((*g)[0]->params, j->params)) ++g;
                if (g == groups.end()) groups.push_back({ j });
                else g->push_back(j);
            } else {
                auto & g = std::get<GenerateTask>(t);
                if (drop_if_abandoned<GenerateTask, GenerateOutcome>(g, now)) continue;
                gens.push_back(&g);
            }
        }
        for (auto & g : groups) run_judge_group(g, now);
        if (!gens.empty()) run_generate(gens, now);
    }
}

void InferenceLoop::run_judge_group(std::vector<JudgeTask *> & group, Clock::time_point started) {
    std::vector<Sample>     samples;
    std::vector<CancelFlag> cancel;  // aliases of each task's control: the handler's give-up reaches the engine
    for (auto * t : group) {
        samples.push_back(t->sample);
        cancel.emplace_back(t->control, &t->control->cancelled);
    }
    const JudgeParams & params = group[0]->params;

    Clock::time_point             t0 = Clock::now();
    std::vector<Result<Judgment>> results;
    try {
        results = judge_batch(engine_, samples, params, meta_, cancel);
    } catch (const std::exception & e) {
        // an engine must not throw, but one bad batch must not take the server down either
        results.assign(samples.size(), make_error(Errc::internal, std::string("engine threw: ") + e.what()));
    }
    Clock::time_point t1 = Clock::now();

    long long pt = 0, ct = 0;
    int       n_samples = 0;
    for (auto & r : results) {
        if (!r) continue;
        metrics_.observe_judgment(*r);
        for (const auto & s : r->samples) {
            pt += s.generation.prompt_tokens;
            ct += s.generation.completion_tokens;
            n_samples++;
        }
    }
    double secs = std::chrono::duration<double>(t1 - t0).count();
    metrics_.observe_batch((int) group.size(), secs, pt, ct, n_samples);

    for (size_t i = 0; i < group.size(); i++) {
        JudgeOutcome o;
        o.judgment          = i < results.size() ? std::move(results[i]) : make_error(Errc::internal, "no result");
        o.info.queue_ms     = ms_between(group[i]->enqueued, started);
        o.info.inference_ms = secs * 1000.0;
        o.info.batch_tasks  = (int) group.size();
        group[i]->done.set_value(std::move(o));
    }
}

void InferenceLoop::run_generate(std::vector<GenerateTask *> & tasks, Clock::time_point started) {
    std::vector<GenerationRequest> requests;
    for (auto * t : tasks) {
        requests.push_back(t->request);
        requests.back().cancel = CancelFlag(t->control, &t->control->cancelled);
    }

    Clock::time_point             t0 = Clock::now();
    std::vector<GenerationResult> results;
    try {
        results = engine_.generate(requests);
    } catch (const std::exception & e) {
        results.assign(requests.size(), make_error(Errc::internal, std::string("engine threw: ") + e.what()));
    }
    Clock::time_point t1 = Clock::now();

    long long pt = 0, ct = 0;
    int       n_samples = 0;
    for (auto & r : results) {
        if (!r) continue;
        for (const auto & g : *r) {
            pt += g.prompt_tokens;
            ct += g.completion_tokens;
            n_samples++;
        }
    }
    double secs = std::chrono::duration<double>(t1 - t0).count();
    metrics_.observe_batch((int) tasks.size(), secs, pt, ct, n_samples);

    for (size_t i = 0; i < tasks.size(); i++) {
        GenerateOutcome o;
        o.generations       = i < results.size() ? std::move(results[i]) : make_error(Errc::internal, "no result");
        o.info.queue_ms     = ms_between(tasks[i]->enqueued, started);
        o.info.inference_ms = secs * 1000.0;
        o.info.batch_tasks  = (int) tasks.size();
        tasks[i]->done.set_value(std::move(o));
    }
}

}  // namespace grm::server
