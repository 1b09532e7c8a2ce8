// `grm serve`: HTTP at the edge (cpp-httplib), native tasks through a bounded queue, one
// inference loop that owns the engine. Endpoints and schemas: docs/server.md.
#pragma once

#include "core/engine.h"
#include "server/inference_loop.h"
#include "server/metrics.h"
#include "server/server_options.h"
#include "server/task_queue.h"

#include <atomic>
#include <future>
#include <memory>
#include <thread>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace grm::server {

class GuardedHttpServer;

class Server {
  public:
    // The engine must outlive the server; only the inference loop's thread calls it.
    Server(Engine & engine, ServerOptions options);
    ~Server();

    // Binds (port 0: any free port) and starts the loop and the HTTP threads; returns at once.
    Status start();
    int    port() const { return port_; }

    // Graceful: new requests get 503, everything accepted is run and answered, then HTTP stops.
    void stop();
    // Blocks until stop() has finished (from another thread or a signal watcher).
    void wait();

    // In-process submission to the same queue and loop the HTTP handlers use (benchmarks compare
    // the two). Returns nothing when the queue is full or closed.
    std::optional<std::future<JudgeOutcome>> submit_judge(Sample sample, JudgeParams params,
                                                          std::shared_ptr<TaskControl> control);
    const JudgeParams & default_params() const;

  private:
    void register_routes();
    // POST handlers get the body read by the route (see register_routes)
    void handle_judge(const httplib::Request & req, const std::string & body, httplib::Response & res);
    void handle_reward(const httplib::Request & req, const std::string & body, httplib::Response & res);
    void handle_rule_reward(const httplib::Request & req, const std::string & body, httplib::Response & res);
    void handle_completion(const httplib::Request & req, const std::string & body, httplib::Response & res, bool chat);
    void handle_health(const httplib::Request & req, httplib::Response & res);
    void handle_metrics(const httplib::Request & req, httplib::Response & res);

    Engine &                          engine_;
    ServerOptions                     opt_;
    TaskQueue                         queue_;
    Metrics                           metrics_;
    InferenceLoop                     loop_;
    std::unique_ptr<GuardedHttpServer> http_;
    std::string                       engine_description_;
    long long                         created_ = 0;  // unix time at start-up (/v1/models)
    std::thread                       http_thread_;
    int                               port_ = 0;
    std::atomic<bool>                 draining_{ false };
    std::atomic<int>                  in_flight_{ 0 };
    std::mutex                        stop_mutex_;
    std::promise<void>                stopped_;
    std::shared_future<void>          stopped_future_;
    bool                              started_ = false, stop_done_ = false;
};

}  // namespace grm::server
