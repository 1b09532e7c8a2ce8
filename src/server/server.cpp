// HTTP handlers of `grm serve`: parse -> enqueue -> wait (deadline, disconnect) -> JSON.
#include "server/server.h"

#include "server/api_error.h"
#include "server/connection_watch.h"
#include "server/http_guard.h"
#include "server/requests.h"
#include "server/responses.h"

#include <httplib.h>

#include <cctype>
#include <cmath>
#include <ctime>
#include <set>
#include <utility>

namespace grm::server {

using json = nlohmann::json;

namespace {

const std::set<std::string> k_endpoints = { "/v1/judge", "/get_reward", "/rule_reward", "/v1/chat/completions",
                                            "/v1/completions", "/health", "/metrics", "/v1/models" };
const std::set<std::string> k_post_endpoints = { "/v1/judge", "/get_reward", "/rule_reward", "/v1/chat/completions",
                                                 "/v1/completions" };

// The label a request is counted under in /metrics.
std::string endpoint_label(const std::string & path) {
    if (k_endpoints.count(path)) return path;
    if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
    return "other";
}

// An HTTP method token as RFC 9110 spells them (letters); anything else is a malformed request line.
bool looks_like_method(const std::string & m) {
    if (m.empty()) return false;
    for (char c : m) {
        if (!std::isupper((unsigned char) c)) return false;
    }
    return true;
}

thread_local Clock::time_point t_request_start;

struct InFlight {
    std::atomic<int> & n;
    explicit InFlight(std::atomic<int> & c) : n(c) { n++; }
    ~InFlight() { n--; }
};

void reply(httplib::Response & res, const ApiError & e) {
    res.status = e.status;
    res.set_content(e.to_json(), "application/json");
}

void reply(httplib::Response & res, const json & body) {
    res.status = 200;
    res.set_content(dump(body), "application/json");
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Waits for every future; gives up (and tells the loop to skip what it has not started) when the
// client disconnects or the deadline passes.
template <class Outcome>
std::optional<ApiError> await_all(std::vector<std::future<Outcome>> & fs,
                                  const std::vector<std::shared_ptr<TaskControl>> & controls, ConnectionWatch & watch,
                                  Clock::time_point deadline) {
    auto cancel = [&] {
        for (auto & c : controls) c->cancelled = true;
    };
    for (size_t i = 0; i < fs.size();) {
        if (fs[i].wait_for(std::chrono::milliseconds(20)) == std::future_status::ready) {
            i++;
            continue;
        }
        if (watch.closed()) {
            cancel();
            return ApiError{ 499, "client_closed", "the client closed the connection", "cancelled" };
        }
        if (Clock::now() > deadline) {
            cancel();
            return ApiError{ 504, "deadline_exceeded", "the request's deadline passed before it finished", "timeout_error" };
        }
    }
    return std::nullopt;
}

}  // namespace

Server::Server(Engine & engine, ServerOptions options)
    : engine_(engine), opt_(std::move(options)), queue_(opt_.queue_capacity),
      loop_(engine_, queue_, metrics_, opt_.meta, (size_t) std::max(1, opt_.max_batch), opt_.batch_window_ms),
      stopped_future_(stopped_.get_future().share()) {
    if (opt_.model_name.empty()) opt_.model_name = "grm";
    engine_description_ = engine_.describe();
}

Server::~Server() {
    if (started_) stop();
}

const JudgeParams & Server::default_params() const { return opt_.judge; }

Status Server::start() {
    // Handlers block while their task is queued; enough threads that a full queue, not a busy
    // thread pool, is what turns clients away (with 429). Stalled clients: see http_guard.h.
    HttpLimits limits;
    limits.threads        = opt_.http_threads;
    limits.read_timeout_s = opt_.read_timeout_s;
    limits.keep_alive_s   = 5;
    http_                 = std::make_unique<GuardedHttpServer>(limits);
    http_->set_payload_max_length(opt_.limits.max_body_bytes);
    http_->set_read_timeout(std::max(1, (int) std::ceil(opt_.read_timeout_s)), 0);
    http_->set_write_timeout(60, 0);
    http_->set_keep_alive_timeout(5);
    http_->set_tcp_nodelay(true);  // small JSON replies: no Nagle/delayed-ACK stalls (~40 ms each)
    created_ = (long long) std::time(nullptr);
    register_routes();

    int port = opt_.port == 0 ? http_->bind_to_any_port(opt_.host) : (http_->bind_to_port(opt_.host, opt_.port) ? opt_.port : -1);
    if (port <= 0) {
        return make_error(Errc::unavailable, "cannot listen on " + opt_.host + ":" + std::to_string(opt_.port));
    }
    port_ = port;
    raise_listen_backlog(port_, std::max(128, opt_.http_threads * 2));
    loop_.start();
    http_thread_ = std::thread([this] { http_->listen_after_bind(); });
    started_     = true;
    return ok_status();
}

void Server::stop() {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    if (stop_done_ || !started_) return;
    draining_ = true;
    queue_.close();
    loop_.join();  // runs everything already accepted
    // Handlers now only have replies to write; give them a bounded time to do so.
    for (int i = 0; i < 3000 && in_flight_.load() > 0; i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    http_->stop();
    if (http_thread_.joinable()) http_thread_.join();
    stop_done_ = true;
    stopped_.set_value();
}

void Server::wait() { stopped_future_.wait(); }

std::optional<std::future<JudgeOutcome>> Server::submit_judge(Sample sample, JudgeParams params,
                                                              std::shared_ptr<TaskControl> control) {
    JudgeTask t{ std::move(sample), std::move(params), std::move(control), {}, Clock::now() };
    auto      f = t.done.get_future();
    std::vector<Task> tasks;
    tasks.emplace_back(std::move(t));
    if (!queue_.try_push(tasks)) return std::nullopt;
    return f;
}

void Server::register_routes() {
    httplib::Server & s = *http_;

    s.set_pre_routing_handler([this](const httplib::Request & req, httplib::Response & res) {
        t_request_start = Clock::now();
        if (req.method != "POST") GuardedHttpServer::request_read();  // no body to wait for
        // a reply before the body is read leaves the body on the connection: close it after
        auto refuse = [&](const ApiError & e) {
            GuardedHttpServer::request_read();
            GuardedHttpServer::facts().close = true;
            res.set_header("Connection", "close");
            reply(res, e);
            return httplib::Server::HandlerResponse::Handled;
        };
        if (!opt_.api_key.empty() && req.path != "/health") {
            const std::string expected = "Bearer " + opt_.api_key;
            const std::string got      = req.get_header_value("Authorization");
            // length-independent comparison time is not needed on loopback; equality is
            if (got != expected) {
                res.set_header("WWW-Authenticate", "Bearer");
                return refuse(ApiError{ 401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <key>)",
                                        "authentication_error" });
            }
        }
        if (draining_ && req.method == "POST") {
            return refuse(ApiError{ 503, "shutting_down", "the server is shutting down", "unavailable_error" });
        }
        // Bodies are read as JSON whatever their Content-Type says (curl -d sends form-urlencoded);
        // only a multipart body cannot be one. Decided before the body is read, so before its size.
        if (req.method == "POST" && k_post_endpoints.count(req.path) &&
            req.get_header_value("Content-Type").rfind("multipart/", 0) == 0) {
            return refuse(ApiError{ 415, "unsupported_media_type",
                                    "Content-Type " + req.get_header_value("Content-Type") + ": send the body as application/json",
                                    "invalid_request_error" });
        }
        // A declared size over the limit is refused before reading (cpp-httplib would first read
        // and discard that many bytes); one that is not a number cannot frame the body.
        if (req.has_header("Content-Length")) {
            const std::string cl = req.get_header_value("Content-Length");
            if (cl.empty() || cl.size() > 19 || cl.find_first_not_of("0123456789") != std::string::npos) {
                return refuse(ApiError{ 400, "malformed_request", "Content-Length '" + cl.substr(0, 32) + "' is not a byte count",
                                        "invalid_request_error" });
            }
            if (std::stoull(cl) > opt_.limits.max_body_bytes) {
                return refuse(ApiError{ 413, "body_too_large", "request body of " + cl + " bytes exceeds " +
                                                                   std::to_string(opt_.limits.max_body_bytes) + " bytes (--max-body)",
                                        "invalid_request_error" });
            }
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });

    // cpp-httplib answers what it cannot read or route itself (400, 404, 413, 414); give each its
    // own code, with what the connection's stream saw (http_guard.h) to tell the 400s apart.
    s.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request & req, httplib::Response & res) {
        GuardedHttpServer::request_read();
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        ReadFacts &       facts  = GuardedHttpServer::facts();
        const std::string method = req.method.empty() ? facts.method : req.method;
        const bool        known  = method == "GET" || method == "HEAD" || method == "POST";
        ApiError          e;
        if (res.status == 400 && facts.timed_out) {
            e = ApiError{ 408, "request_timeout",
                          "the request did not arrive within " + std::to_string((int) std::ceil(opt_.read_timeout_s)) +
                              " s (--read-timeout)",
                          "invalid_request_error" };
        } else if (res.status == 400 && facts.header_too_large) {
            e = ApiError{ 431, "header_too_large", "a header line is over 8192 bytes or all headers over 65536 bytes",
                          "invalid_request_error" };
        } else if (res.status == 414) {
            e = ApiError{ 414, "uri_too_long", "the request line is over 8192 bytes", "invalid_request_error" };
        } else if ((res.status == 400 || res.status == 404) && looks_like_method(method) && !known) {
            e = ApiError{ 501, "not_implemented", "method " + method + " is not implemented; use GET or POST",
                          "invalid_request_error" };
        } else if (res.status == 404) {
            e = ApiError{ 404, "not_found", "no endpoint " + req.method + " " + req.path, "not_found_error" };
        } else if (res.status == 413) {
            e = ApiError{ 413, "body_too_large", "request body exceeds " + std::to_string(opt_.limits.max_body_bytes) + " bytes (--max-body)",
                          "invalid_request_error" };
        } else if (res.status >= 500) {
            e = ApiError{ res.status, "internal", "internal server error", "server_error" };
        } else {
            // cpp-httplib sets the path only once the request line parsed
            e = ApiError{ res.status, "malformed_request",
                          req.path.empty() ? "the request line or headers are not valid HTTP/1.1"
                                           : "the request body could not be read (Content-Length or chunked framing)",
                          "invalid_request_error" };
        }
        if (e.status == 400 || e.status == 408 || e.status == 414 || e.status == 431 || e.status == 501) {
            // the rest of what the client sent cannot be trusted to start a new request
            facts.close = true;
            res.set_header("Connection", "close");
        }
        res.status = e.status;
        res.set_content(e.to_json(), "application/json");
        return httplib::Server::HandlerResponse::Handled;
    }));

    // cpp-httplib adds Keep-Alive even to a reply that closes the connection
    s.set_post_routing_handler([](const httplib::Request &, httplib::Response & res) {
        if (res.get_header_value("Connection") == "close") res.headers.erase("Keep-Alive");
    });

    s.set_exception_handler([](const httplib::Request &, httplib::Response & res, std::exception_ptr ep) {
        GuardedHttpServer::request_read();
        std::string what = "unknown exception";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception & e) {
            what = e.what();
        } catch (...) {
        }
        reply(res, ApiError{ 500, "internal", "internal error: " + what, "server_error" });
    });

    s.set_logger([this](const httplib::Request & req, const httplib::Response & res) {
        double secs = std::chrono::duration<double>(Clock::now() - t_request_start).count();
        metrics_.observe_request(endpoint_label(req.path), res.status, secs);
    });

    // POST bodies come through a content reader: cpp-httplib then leaves them alone (it would
    // otherwise parse a form-urlencoded body and refuse one over 8 KiB as 413). A POST without a
    // body (no Content-Length) takes the plain route.
    auto post = [&](const char * path, std::function<void(const httplib::Request &, const std::string &, httplib::Response &)> h) {
        s.Post(path, httplib::Server::HandlerWithContentReader(
                         [h](const httplib::Request & q, httplib::Response & r, const httplib::ContentReader & read) {
                             std::string body;
                             if (!read([&](const char * d, size_t n) {
                                     body.append(d, n);
                                     return true;
                                 })) {
                                 if (r.status < 400) r.status = 400;  // the error handler words it (408, 413, ...)
                                 return;
                             }
                             GuardedHttpServer::request_read();
                             h(q, body, r);
                         }));
        s.Post(path, httplib::Server::Handler([h](const httplib::Request & q, httplib::Response & r) {
                   GuardedHttpServer::request_read();
                   h(q, q.body, r);
               }));
    };
    post("/v1/judge", [this](const httplib::Request & q, const std::string & b, httplib::Response & r) { handle_judge(q, b, r); });
    post("/get_reward", [this](const httplib::Request & q, const std::string & b, httplib::Response & r) { handle_reward(q, b, r); });
    post("/rule_reward", [this](const httplib::Request & q, const std::string & b, httplib::Response & r) { handle_rule_reward(q, b, r); });
    post("/v1/chat/completions",
         [this](const httplib::Request & q, const std::string & b, httplib::Response & r) { handle_completion(q, b, r, true); });
    post("/v1/completions",
         [this](const httplib::Request & q, const std::string & b, httplib::Response & r) { handle_completion(q, b, r, false); });
    s.Get("/health", [this](const httplib::Request & q, httplib::Response & r) { handle_health(q, r); });
    s.Get("/metrics", [this](const httplib::Request & q, httplib::Response & r) { handle_metrics(q, r); });
    auto model_json = [this] {
        return json{ { "id", opt_.model_name }, { "object", "model" }, { "created", created_ }, { "owned_by", "grm" } };
    };
    s.Get("/v1/models", [model_json](const httplib::Request &, httplib::Response & r) {
        reply(r, json{ { "object", "list" }, { "data", json::array({ model_json() }) } });
    });
    s.Get(R"(/v1/models/(.+))", [this, model_json](const httplib::Request & q, httplib::Response & r) {
        const std::string id = q.matches[1];
        if (id != opt_.model_name) {
            return reply(r, ApiError{ 404, "model_not_found", "no model '" + id + "'; this server serves '" + opt_.model_name + "'",
                                      "not_found_error" });
        }
        reply(r, model_json());
    });

    auto wrong_method = [](const char * allowed) {
        return [allowed](const httplib::Request & q, httplib::Response & r) {
            GuardedHttpServer::request_read();
            r.set_header("Allow", allowed);
            reply(r, ApiError{ 405, "method_not_allowed", q.method + " " + q.path + " is not allowed; use " + allowed,
                               "invalid_request_error" });
        };
    };
    for (const auto & p : k_post_endpoints) s.Get(p, wrong_method("POST"));
    for (const char * p : { "/health", "/metrics", "/v1/models" }) s.Post(p, wrong_method("GET"));
}

namespace {

// Pushes all tasks or none; a refusal is 429 (full, with a retry hint) or 503 (shutting down).
template <class Metrics_, class Queue>
std::optional<ApiError> enqueue(Queue & queue, Metrics_ & metrics, std::vector<Task> & tasks, int max_batch,
                                httplib::Response & res) {
    if (tasks.size() > queue.capacity()) {
        return bad_request("too_many_queries", "the request holds " + std::to_string(tasks.size()) +
                                                   " judgments; the server's queue holds at most " +
                                                   std::to_string(queue.capacity()));
    }
    if (queue.try_push(tasks)) return std::nullopt;
    if (queue.closed()) return ApiError{ 503, "shutting_down", "the server is shutting down", "unavailable_error" };
    metrics.observe_rejected_queue_full();
    // the queue ahead drains in about (depth / batch) engine calls of the mean duration
    double batches = std::ceil(double(queue.size()) / std::max(1, max_batch));
    int    after   = (int) std::clamp(std::ceil(batches * metrics.mean_batch_seconds()), 1.0, 60.0);
    res.set_header("Retry-After", std::to_string(after));
    return ApiError{ 429, "queue_full", "the server's queue is full; retry after " + std::to_string(after) + " s",
                     "rate_limit_error" };
}

// Queues one request's work (all or none) and waits for it: the outcomes in order, or nothing once
// the refusal (429/503), the client's leaving (499) or the deadline (504) has been replied.
template <class Work> using outcome_of = decltype(std::declval<Work &>().done.get_future().get());
template <class Work, class Metrics_, class Queue>
std::optional<std::vector<outcome_of<Work>>> submit(std::vector<Work> work, const std::shared_ptr<TaskControl> & control,
                                                    Queue & queue, Metrics_ & metrics, int max_batch,
                                                    const httplib::Request & req, httplib::Response & res) {
    std::vector<std::future<outcome_of<Work>>> fs;
    std::vector<Task>                          tasks;
    for (auto & w : work) {
        fs.push_back(w.done.get_future());
        tasks.emplace_back(std::move(w));
    }
    std::optional<ApiError> e = enqueue(queue, metrics, tasks, max_batch, res);
    if (!e) {
        ConnectionWatch watch(req);
        e = await_all(fs, { control }, watch, control->deadline);
    }
    if (e) {
        reply(res, *e);
        return std::nullopt;
    }
    std::vector<outcome_of<Work>> out;
    for (auto & f : fs) out.push_back(f.get());
    return out;
}

}  // namespace

void Server::handle_judge(const httplib::Request & req, const std::string & req_body, httplib::Response & res) {
    InFlight          guard(in_flight_);
    Clock::time_point t0   = Clock::now();
    auto              body = parse_body(req_body, opt_.limits.max_json_depth);
    if (!body.ok()) return reply(res, body.error);
    auto parsed = parse_judge_request(*body.value, opt_);
    if (!parsed.ok()) return reply(res, parsed.error);
    JudgeRequest & r = *parsed.value;

    auto control = task_control(t0, r.timeout_s);
    std::vector<JudgeTask> work;
    work.push_back(JudgeTask{ r.sample, r.params, control, {}, t0 });
    auto outcomes = submit(std::move(work), control, queue_, metrics_, opt_.max_batch, req, res);
    if (!outcomes) return;
    const JudgeOutcome & o = outcomes->front();
    if (!o.judgment) return reply(res, from_error(o.judgment.error()));
    reply(res, judgment_json(*o.judgment, r, o.info, ms_since(t0), opt_.model_name));
}

void Server::handle_reward(const httplib::Request & req, const std::string & req_body, httplib::Response & res) {
    InFlight          guard(in_flight_);
    Clock::time_point t0   = Clock::now();
    auto              body = parse_body(req_body, opt_.limits.max_json_depth);
    if (!body.ok()) return reply(res, body.error);
    auto parsed = parse_reward_request(*body.value, opt_);
    if (!parsed.ok()) return reply(res, parsed.error);
    RewardRequest & r = *parsed.value;
    if (r.samples.empty()) return reply(res, reward_json({}, r, opt_.unscorable_reward));

    auto control = task_control(t0, r.timeout_s);
    std::vector<JudgeTask> work;
    for (const Sample & s : r.samples) work.push_back(JudgeTask{ s, r.params, control, {}, t0 });
    auto outcomes = submit(std::move(work), control, queue_, metrics_, opt_.max_batch, req, res);
    if (!outcomes) return;
    std::vector<const Judgment *> js;
    for (size_t i = 0; i < outcomes->size(); i++) {
        const JudgeOutcome & o = (*outcomes)[i];
        if (!o.judgment) return reply(res, from_error(o.judgment.error(), "query[" + std::to_string(i) + "]"));
        js.push_back(&*o.judgment);
    }
    reply(res, reward_json(js, r, opt_.unscorable_reward));
}

void Server::handle_rule_reward(const httplib::Request &, const std::string & req_body, httplib::Response & res) {
    // Parsing a judgment is microseconds of CPU: answered here, without the queue or the engine.
    InFlight guard(in_flight_);
    auto     body = parse_body(req_body, opt_.limits.max_json_depth);
    if (!body.ok()) return reply(res, body.error);
    auto parsed = parse_rule_reward_request(*body.value, opt_);
    if (!parsed.ok()) return reply(res, parsed.error);
    const RuleRewardRequest &        r = *parsed.value;
    std::vector<scaling::RuleReward> rewards;
    for (size_t i = 0; i < r.judgments.size(); i++) rewards.push_back(scaling::label_reward(r.labels[i], r.judgments[i], r.stopped[i]));
    reply(res, rule_reward_json(rewards, r));
}

void Server::handle_completion(const httplib::Request & req, const std::string & req_body, httplib::Response & res, bool chat) {
    InFlight          guard(in_flight_);
    Clock::time_point t0   = Clock::now();
    auto              body = parse_body(req_body, opt_.limits.max_json_depth);
    if (!body.ok()) return reply(res, body.error);
    auto parsed = parse_completion_request(*body.value, opt_, chat);
    if (!parsed.ok()) return reply(res, parsed.error);
    CompletionRequest & r = *parsed.value;

    auto control = task_control(t0, r.timeout_s);
    std::vector<GenerateTask> work;
    work.push_back(GenerateTask{ r.request, control, {}, t0 });
    auto outcomes = submit(std::move(work), control, queue_, metrics_, opt_.max_batch, req, res);
    if (!outcomes) return;
    const GenerateOutcome & o = outcomes->front();
    if (!o.generations) return reply(res, from_error(o.generations.error()));
    if (r.stream) {
        res.status = 200;
        res.set_header("Cache-Control", "no-cache");
        return res.set_content(completion_sse(*o.generations, r, chat, opt_.model_name), "text/event-stream");
    }
    reply(res, completion_json(*o.generations, r, chat, opt_.model_name));
}

void Server::handle_health(const httplib::Request &, httplib::Response & res) {
    json out = { { "status", draining_ ? "draining" : "ok" },
                 { "model", opt_.model_name },
                 { "engine", engine_description_ },
                 { "queue_depth", queue_.size() },
                 { "queue_capacity", queue_.capacity() },
                 { "in_flight", in_flight_.load() } };
    reply(res, out);
    if (draining_) res.status = 503;
}

void Server::handle_metrics(const httplib::Request &, httplib::Response & res) {
    res.status = 200;
    std::string text = metrics_.render(queue_.size(), queue_.capacity(), in_flight_.load());
    text += "# HELP grm_http_connections_evicted_total Connections still reading a request, shut down for one waiting for a worker.\n"
            "# TYPE grm_http_connections_evicted_total counter\n"
            "grm_http_connections_evicted_total " + std::to_string(http_->evictions()) + "\n";
    res.set_content(text, "text/plain; version=0.0.4");
}

}  // namespace grm::server
