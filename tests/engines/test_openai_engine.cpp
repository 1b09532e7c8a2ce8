// OpenAI-compatible client against a real llama-server on 127.0.0.1 (started here), plus scripted
// loopback servers for the failure paths a healthy llama-server cannot produce on demand.
#include "common/fixtures.h"
#include "engines/openai_engine.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace grm;

namespace {

// One llama-server for the whole suite: 4 slots, the tiny fixture model.
class LlamaServer : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        port_         = test::free_port();
        std::string m = test::tiny_model();
        pid_          = fork();
        if (pid_ == 0) {
            std::string bin = test::llama_bin_dir() + "/llama-server", port = std::to_string(port_);
            freopen("/dev/null", "w", stdout);
            freopen("/dev/null", "w", stderr);
            execl(bin.c_str(), bin.c_str(), "-m", m.c_str(), "--host", "127.0.0.1", "--port", port.c_str(), "-np", "4",
                  "-c", "1024", "-t", "2", "--no-webui", (char *) nullptr);
            _exit(127);
        }
        httplib::Client cli("127.0.0.1", port_);
        for (int i = 0; i < 300; i++) {
            auto r = cli.Get("/health");
            if (r && r->status == 200) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        FAIL() << "llama-server did not become healthy";
    }
    static void TearDownTestSuite() {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    static OpenAIEngineParams params(bool chat = true) {
        OpenAIEngineParams p;
        p.endpoints = { "http://127.0.0.1:" + std::to_string(port_) };
        p.chat      = chat;
        p.timeout_s = 60;
        p.backoff_s = 0.05;
        return p;
    }
    static GenerationRequest request(int k, int max_tokens = 8) {
        GenerationRequest r;
        r.prompts.assign(k, "What is 47 + 38?");
        r.sampling.temperature = 0.8f;
        r.sampling.max_tokens  = max_tokens;
        r.sampling.seed        = 7;
        return r;
    }
    static inline int   port_ = 0;
    static inline pid_t pid_  = 0;
};

}  // namespace

TEST_F(LlamaServer, ChatCompletionsWithN) {
    OpenAIEngine e(params(true));
    auto         r = e.generate_one(request(3, 5));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(r.value().size(), 3u);
    for (const auto & g : r.value()) {
        EXPECT_NE(g.finish, FinishReason::error) << g.error;
        EXPECT_LE(g.completion_tokens, 5);
    }
    EXPECT_EQ(e.http_requests(), 1);  // n = 3 fits in 4 slots: one request
}

TEST_F(LlamaServer, CompletionsEndpointReportsLength) {
    OpenAIEngine e(params(false));
    auto         req = request(1, 4);
    req.sampling.stop.clear();
    auto r = e.generate_one(req);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const auto & g = r.value()[0];
    // a random model may end early on an end-of-generation token; otherwise the cut is a length finish
    if (g.finish != FinishReason::error) {
        EXPECT_TRUE(g.finish == FinishReason::length || g.completion_tokens < 4);
    }
}

TEST_F(LlamaServer, FallsBackWhenNExceedsSlots) {
    OpenAIEngine e(params(true));
    auto         r = e.generate_one(request(8, 3));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r.value().size(), 8u);
    EXPECT_LE(e.learned_max_n(), 4);  // refused n = 8, settled at or below the 4 slots
    EXPECT_GE(e.http_requests(), 3);  // the refused request plus at least two accepted ones
}

TEST_F(LlamaServer, PromptLongerThanContextIsARequestError) {
    OpenAIEngine      e(params(false));
    GenerationRequest req = request(1, 4);
    req.prompts           = { std::string(6000, 'z') };
    auto r                = e.generate_one(req);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().code == Errc::context_overflow || r.error().code == Errc::invalid_argument) << r.error().to_string();
    EXPECT_EQ(e.http_requests(), 1);  // 4xx is never retried
}

TEST(OpenAIEngine, UnreachableServerIsUnavailableAfterRetries) {
    OpenAIEngineParams p;
    p.endpoints   = { "http://127.0.0.1:" + std::to_string(test::free_port()) };
    p.max_retries = 2;
    p.backoff_s   = 0.01;
    OpenAIEngine      e(p);
    GenerationRequest req;
    req.prompts = { "hi" };
    auto r      = e.generate_one(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unavailable);
    EXPECT_EQ(e.http_requests(), 3);
    EXPECT_NE(r.error().message.find("after 3 tries"), std::string::npos) << r.error().message;
}

// A loopback server that answers from a script: status codes per call, choices on success.
class ScriptedServer {
  public:
    explicit ScriptedServer(std::vector<int> statuses, int delay_ms = 0) : statuses_(std::move(statuses)) {
        srv_.Post("/v1/chat/completions", [this, delay_ms](const httplib::Request & req, httplib::Response & res) {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            int  call   = calls_++;
            int  status = call < (int) statuses_.size() ? statuses_[call] : 200;
            auto body   = nlohmann::json::parse(req.body);
            int  n      = body.value("n", 1);
            {
                std::lock_guard<std::mutex> lock(mu_);
                last_body_ = body;
            }
            if (status == 200) {
                nlohmann::json choices = nlohmann::json::array();
                for (int i = 0; i < n; i++) {
                    choices.push_back({ { "index", i }, { "message", { { "content", "Scores: \\boxed{7}" } } }, { "finish_reason", "stop" } });
                }
                res.set_content(nlohmann::json{ { "choices", choices } }.dump(), "application/json");
            } else {
                if (status == 429) res.set_header("Retry-After", "0");
                res.status = status;
                res.set_content(R"({"error":{"message":"scripted failure","type":"server_error"}})", "application/json");
            }
        });
        port_   = srv_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { srv_.listen_after_bind(); });
        while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~ScriptedServer() {
        srv_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int         calls() const { return calls_; }
    nlohmann::json last_body() const {
        std::lock_guard<std::mutex> lock(mu_);
        return last_body_;
    }

  private:
    mutable std::mutex mu_;
    nlohmann::json     last_body_;
    std::vector<int> statuses_;
    std::atomic<int> calls_{ 0 };
    httplib::Server  srv_;
    std::thread      thread_;
    int              port_ = 0;
};

TEST(OpenAIEngine, RetriesOn429And503ThenSucceeds) {
    ScriptedServer     s({ 429, 503 });
    OpenAIEngineParams p;
    p.endpoints = { s.url() };
    p.backoff_s = 0.01;
    OpenAIEngine      e(p);
    GenerationRequest req;
    req.prompts = { "q" };
    auto r      = e.generate_one(req);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r.value()[0].text, "Scores: \\boxed{7}");
    EXPECT_EQ(s.calls(), 3);
}

TEST(OpenAIEngine, HistorySentAsMessagesBeforeTheUserTurn) {
    ScriptedServer     s({});
    OpenAIEngineParams p;
    p.endpoints = { s.url() };
    OpenAIEngine      e(p);
    GenerationRequest req;
    req.prompts = { "q" };
    req.history = { { "system", "Be brief." }, { "user", "a" }, { "assistant", "b" } };
    ASSERT_TRUE(e.generate_one(req).ok());
    const nlohmann::json want = nlohmann::json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"a"},)"
                                                      R"({"role":"assistant","content":"b"},{"role":"user","content":"q"}])");
    EXPECT_EQ(s.last_body()["messages"], want);
}

TEST(OpenAIEngine, CancelledRequestMakesNoCall) {
    ScriptedServer     s({});
    OpenAIEngineParams p;
    p.endpoints = { s.url() };
    OpenAIEngine      e(p);
    GenerationRequest req;
    req.prompts = { "q", "q" };
    req.cancel  = std::make_shared<std::atomic<bool>>(true);
    auto r      = e.generate_one(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::cancelled);
    EXPECT_EQ(s.calls(), 0);
}

TEST(OpenAIEngine, Persistent500IsAFailedSampleNotAFailedRequest) {
    // n = 2: the first call fails with 500 (and its retries); the client splits into single
    // samples: the first keeps failing (a bad sample), the second succeeds.
    ScriptedServer     s({ 500, 500, 500, 500, 500 });
    OpenAIEngineParams p;
    p.endpoints   = { s.url() };
    p.backoff_s   = 0.01;
    p.max_retries = 1;
    p.concurrency = 1;
    OpenAIEngine      e(p);
    GenerationRequest req;
    req.prompts = { "q", "q" };
    auto r      = e.generate_one(req);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_EQ(r.value().size(), 2u);
    EXPECT_EQ(r.value()[0].finish, FinishReason::error);
    EXPECT_NE(r.value()[0].error.find("HTTP 500: scripted failure"), std::string::npos) << r.value()[0].error;
    EXPECT_EQ(r.value()[1].finish, FinishReason::stop);
}

TEST(OpenAIEngine, BadRequestIsNotRetried) {
    ScriptedServer     s({ 400 });
    OpenAIEngineParams p;
    p.endpoints = { s.url() };
    OpenAIEngine      e(p);
    GenerationRequest req;
    req.prompts = { "q" };
    auto r      = e.generate_one(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_EQ(s.calls(), 1);
}

TEST(OpenAIEngine, WorkIsSpreadOverEndpoints) {
    // each answer takes 20 ms, so one worker cannot drain the queue before the other starts
    ScriptedServer     a({}, 20), b({}, 20);
    OpenAIEngineParams p;
    p.endpoints   = { a.url(), b.url() };
    p.concurrency = 1;
    OpenAIEngine                   e(p);
    std::vector<GenerationRequest> reqs(8);
    for (int i = 0; i < 8; i++) reqs[i].prompts = { "prompt " + std::to_string(i) };
    auto rs = e.generate(reqs);
    for (auto & r : rs) ASSERT_TRUE(r.ok());
    EXPECT_EQ(a.calls() + b.calls(), 8);
    EXPECT_GT(a.calls(), 0);
    EXPECT_GT(b.calls(), 0);
}
