// Hostile input against a real `grm serve`: deep nesting, numbers beyond double, stalled and slow
// clients, oversized headers and URLs, unknown methods, content types, `stream` types, model ids.
// Raw sockets send what an HTTP client library would refuse to.
#include "common/fixtures.h"
#include "serve_process.h"
#include "server/requests.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

using grm::test::ServeProcess;
using json  = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

int connect_to(int port) {
    int         fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family      = AF_INET;
    a.sin_port        = htons((uint16_t) port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (sockaddr *) &a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string & s) {
    for (size_t off = 0; off < s.size();) {
        ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += (size_t) n;
    }
    return true;
}

// Everything the server sends until it closes the connection or `timeout_s` passes.
std::string read_until_close(int fd, double timeout_s) {
    std::string out;
    auto        end = Clock::now() + std::chrono::milliseconds((long long) (timeout_s * 1000));
    while (Clock::now() < end) {
        pollfd p{ fd, POLLIN, 0 };
        int    ms = (int) std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
        if (poll(&p, 1, std::max(ms, 1)) <= 0) break;
        char    buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, (size_t) n);
    }
    return out;
}

struct RawReply {
    int  status = -1;
    json body;
};

// One raw request on a fresh connection; the reply's status and JSON body.
RawReply raw(int port, const std::string & request, double timeout_s = 10) {
    RawReply r;
    int      fd = connect_to(port);
    if (fd < 0) return r;
    send_all(fd, request);
    std::string text = read_until_close(fd, timeout_s);
    close(fd);
    if (text.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(text.c_str() + 9);
    size_t b = text.find("\r\n\r\n");
    if (b != std::string::npos) r.body = json::parse(text.substr(b + 4), nullptr, false);
    return r;
}

void expect_error(int status, const json & body, int want_status, const std::string & code, const std::string & part = "") {
    SCOPED_TRACE(code);
    EXPECT_EQ(status, want_status) << body.dump();
    ASSERT_TRUE(body.is_object() && body.contains("error")) << body.dump();
    EXPECT_EQ(body["error"]["code"], code) << body.dump();
    if (!part.empty()) {
        EXPECT_NE(body["error"]["message"].get<std::string>().find(part), std::string::npos) << body.dump();
    }
}

json judge_body() { return { { "query", "What is 2+2?" }, { "responses", { "4" } } }; }

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class Hostile : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        started = (long long) std::time(nullptr);
        server  = new ServeProcess(grm::test::boxed_seven_model(),
                                   { "-k", "1", "--max-tokens", "16", "--ctx", "2048", "--http-threads", "8",
                                      "--read-timeout", "2" });
    }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static ServeProcess * server;
    static long long      started;
};
ServeProcess * Hostile::server  = nullptr;
long long      Hostile::started = 0;

const char * const k_posts[] = { "/v1/judge", "/get_reward", "/v1/chat/completions", "/v1/completions" };

}  // namespace

// ---- the depth scan (unit table) ---------------------------------------------------------------

TEST(JsonDepth, CountsBracketsOutsideStringsOnly) {
    using grm::server::json_depth_exceeds;
    EXPECT_FALSE(json_depth_exceeds("{\"a\": [[1]]}", 3));
    ASSERT_TRUE(json_depth_exceeds("{\"a\": [[1]]}", 2));
    EXPECT_EQ(json_depth_exceeds("{\"a\": [[1]]}", 2)->position, 7u);  // the third '['
    // brackets inside strings, escaped quotes and escaped backslashes do not count
    EXPECT_FALSE(json_depth_exceeds(R"({"a": "[[[[{{{{"})", 1));
    EXPECT_FALSE(json_depth_exceeds(R"({"a": "\"[[[["})", 1));
    EXPECT_TRUE(json_depth_exceeds(R"({"a": "\\", "b": [[1]]})", 2));
    // depth goes down again: siblings do not add up
    EXPECT_FALSE(json_depth_exceeds("[[],[],[[]]]", 3));
    EXPECT_TRUE(json_depth_exceeds(nested(150000), 64));
}

// ---- bodies ------------------------------------------------------------------------------------

TEST_F(Hostile, DeepNestingIsRefusedAndTheServerLives) {
    const std::string deep = nested(150000);  // ~300 KB; crashed the server (stack overflow) before
    for (const char * path : k_posts) {
        auto [status, body] = server->post(path, "{\"query\": " + deep + "}");
        expect_error(status, body, 400, "too_deep", "deeper than 64");
    }
    auto [status, body] = server->post("/v1/judge", "{\"responses\": [\"4\"], \"query\": \"q\", \"x\": " + deep + "}");
    expect_error(status, body, 400, "too_deep");
    // the limit is exact: 64 levels (the object is one) pass, 65 do not
    json ok = judge_body();
    std::string at_limit = ok.dump();
    at_limit.insert(at_limit.size() - 1, ", \"x\": " + nested(63));
    EXPECT_EQ(server->post("/v1/judge", at_limit).first, 200);
    std::string over = ok.dump();
    over.insert(over.size() - 1, ", \"x\": " + nested(64));
    auto [os, ob] = server->post("/v1/judge", over);
    expect_error(os, ob, 400, "too_deep");
    // brackets inside a string are text
    json text        = judge_body();
    text["query"]    = std::string(200, '[') + " What is 2+2?";
    EXPECT_EQ(server->post("/v1/judge", text).first, 200);
    EXPECT_TRUE(server->alive());
    EXPECT_EQ(server->get("/health").first, 200);
}

TEST_F(Hostile, NumberBeyondDoubleIsInvalidJson) {
    for (const char * path : k_posts) {
        for (const char * field : { "k", "unknown_field" }) {
            auto [status, body] = server->post(path, std::string("{\"") + field + "\": 1e400, \"query\": \"q\"}");
            expect_error(status, body, 400, "invalid_json", "number");
        }
    }
}

TEST_F(Hostile, AnyContentTypeButMultipartIsReadAsJson) {
    // larger than cpp-httplib's 8 KiB form limit, which answered 413 before
    json big     = judge_body();
    big["pad"]   = std::string(20000, 'p');
    auto [status, body] = server->post("/v1/judge", big.dump(), { { "Content-Type", "application/x-www-form-urlencoded" } });
    ASSERT_EQ(status, 200) << body.dump();
    EXPECT_EQ(body["rewards"][0], 7.0);
    auto [s2, b2] = server->post("/v1/judge", judge_body().dump(), { { "Content-Type", "text/plain" } });
    EXPECT_EQ(s2, 200) << b2.dump();
    auto [s3, b3] = server->post("/v1/judge", judge_body().dump(), { { "Content-Type", "multipart/form-data; boundary=x" } });
    expect_error(s3, b3, 415, "unsupported_media_type", "application/json");
}

TEST_F(Hostile, StreamMustBeABoolean) {
    json chat = { { "messages", { { { "role", "user" }, { "content", "hi" } } } }, { "max_tokens", 4 } };
    chat["stream"]       = "yes";
    auto [status, body]  = server->post("/v1/chat/completions", chat);
    expect_error(status, body, 400, "invalid_field", "'stream'");
    chat["stream"]       = true;  // answered as server-sent events
    auto streamed        = server->client().Post("/v1/chat/completions", chat.dump(), "application/json");
    ASSERT_TRUE(streamed);
    EXPECT_EQ(streamed->status, 200);
    EXPECT_EQ(streamed->get_header_value("Content-Type"), "text/event-stream");
    EXPECT_EQ(streamed->body.rfind("data: {", 0), 0u) << streamed->body;
    EXPECT_EQ(streamed->body.substr(streamed->body.size() - 14), "data: [DONE]\n\n");
    chat["stream"]       = false;
    EXPECT_EQ(server->post("/v1/chat/completions", chat).first, 200);
    json comp            = { { "prompt", "hi" }, { "max_tokens", 4 }, { "stream", 1 } };
    auto [s3, b3]        = server->post("/v1/completions", comp);
    expect_error(s3, b3, 400, "invalid_field", "'stream'");
}

// ---- HTTP framing ------------------------------------------------------------------------------

TEST_F(Hostile, FramingErrorsHaveTheirOwnCodes) {
    const int port = server->port();
    auto      r    = raw(port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'h') + "\r\n\r\n");
    expect_error(r.status, r.body, 431, "header_too_large");
    std::string many = "GET /health HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 80; i++) many += "X-" + std::to_string(i) + ": " + std::string(1000, 'm') + "\r\n";
    r = raw(port, many + "\r\n");  // 80 KB of headers: over the 64 KiB budget, the rest is not read
    expect_error(r.status, r.body, 431, "header_too_large");
    r = raw(port, "GET /health?" + std::string(20000, 'u') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_error(r.status, r.body, 414, "uri_too_long");
    r = raw(port, "FOO /health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_error(r.status, r.body, 501, "not_implemented", "FOO");
    r = raw(port, "PUT /v1/judge HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    expect_error(r.status, r.body, 501, "not_implemented", "PUT");
    r = raw(port, "GET /v1/judge HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect_error(r.status, r.body, 405, "method_not_allowed", "POST");
    // a declared size over --max-body is refused at once, not after reading it
    auto t0 = Clock::now();
    r       = raw(port, "POST /v1/judge HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n{");
    expect_error(r.status, r.body, 413, "body_too_large", "9000000");
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 1.5);
    r = raw(port, "POST /v1/judge HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}");
    expect_error(r.status, r.body, 400, "malformed_request", "Content-Length");
    r = raw(port, "POST /v1/judge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
    expect_error(r.status, r.body, 400, "malformed_request", "body");
    r = raw(port, "hello there\r\n\r\n");
    expect_error(r.status, r.body, 400, "malformed_request");
    EXPECT_EQ(server->get("/health").first, 200);
}

// A body that stops arriving is answered 408 once --read-timeout (2 s here) has passed.
TEST_F(Hostile, SlowBodyGetsRequestTimeout) {
    auto t0 = Clock::now();
    auto r  = raw(server->port(), "POST /v1/judge HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"query\"", 8);
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    expect_error(r.status, r.body, 408, "request_timeout", "2 s");
    EXPECT_GE(s, 1.9);
    EXPECT_LT(s, 5.0);
}

// 300 connections that send half a request and stall, with 8 HTTP threads: the others still get
// through at once (stalled readers are evicted when someone waits for a thread).
TEST_F(Hostile, StalledClientsDoNotStarveOthers) {
    std::vector<int> stalled;
    for (int i = 0; i < 300; i++) {
        int fd = connect_to(server->port());
        ASSERT_GE(fd, 0);
        send_all(fd, i % 2 ? "POST /v1/judge HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"qu" : "GET /hea");
        stalled.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let them take every thread
    auto t0             = Clock::now();
    auto [status, body] = server->get("/health");
    double health_s     = std::chrono::duration<double>(Clock::now() - t0).count();
    EXPECT_EQ(status, 200) << body;
    EXPECT_LT(health_s, 1.0);
    auto [js, jb] = server->post("/v1/judge", judge_body());
    ASSERT_EQ(js, 200) << jb.dump();
    EXPECT_EQ(jb["rewards"][0], 7.0);
    for (int fd : stalled) close(fd);
    // at least the 292 that could not have had a thread were evicted
    auto [ms, mt] = server->get("/metrics");
    size_t at     = mt.find("\ngrm_http_connections_evicted_total ");
    ASSERT_NE(at, std::string::npos) << mt;
    EXPECT_GE(std::stol(mt.substr(at + 36)), 292);
}

// ---- models ------------------------------------------------------------------------------------

TEST_F(Hostile, ModelsListAndById) {
    auto [status, text] = server->get("/v1/models");
    ASSERT_EQ(status, 200);
    json m = json::parse(text);
    ASSERT_EQ(m["data"].size(), 1u);
    EXPECT_EQ(m["data"][0]["id"], "boxed-7");  // the GGUF file's stem
    long long created = m["data"][0]["created"];
    EXPECT_GE(created, started - 5);
    EXPECT_LE(created, (long long) std::time(nullptr));
    auto [s2, t2] = server->get("/v1/models/boxed-7");
    ASSERT_EQ(s2, 200) << t2;
    EXPECT_EQ(json::parse(t2)["id"], "boxed-7");
    auto [s3, t3] = server->get("/v1/models/other");
    expect_error(s3, json::parse(t3, nullptr, false), 404, "model_not_found", "boxed-7");
    auto [s4, t4] = server->get("/health");
    EXPECT_EQ(json::parse(t4)["model"], "boxed-7");
}

TEST(HostileModelName, ServedModelNameOverrides) {
    ServeProcess s(grm::test::boxed_seven_model(), { "--served-model-name", "my-judge", "-k", "1", "--max-tokens", "16", "--ctx", "2048" });
    auto [status, text] = s.get("/v1/models/my-judge");
    ASSERT_EQ(status, 200) << text;
    auto [js, jb] = s.post("/v1/judge", judge_body());
    ASSERT_EQ(js, 200) << jb.dump();
    EXPECT_EQ(jb["model"], "my-judge");
}

// ---- docs ----------------------------------------------------------------------------------------

// Every default `grm serve --help` prints is in docs/server.md's flags table, in that flag's row.
TEST(ServeDocs, HelpDefaultsAreTheDocumentedOnes) {
    std::string cmd = grm::test::built_program("tools/grm/grm") + " serve --help 2>&1";
    FILE *      p   = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string help;
    char        buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) help.append(buf, n);
    pclose(p);
    std::ifstream     in(std::string(GRM_SOURCE_DIR) + "/docs/server.md");
    std::stringstream docs;
    docs << in.rdbuf();
    ASSERT_FALSE(docs.str().empty()) << "run from the source directory";

    std::vector<std::string> rows;
    std::istringstream       dl(docs.str());
    for (std::string line; std::getline(dl, line);) {
        if (line.rfind("| `-", 0) == 0) rows.push_back(line);
    }
    // "  --read-timeout FLOAT:POSITIVE=10", "  -k INT=1", "  -t,--temperature FLOAT=0.5"
    const std::regex option(R"(^\s+(?:-\w,)?(-{1,2}[\w-]+)\s+[A-Z][^=\n]*=(\S+))");
    std::istringstream hl(help);
    int                checked = 0;
    for (std::string line; std::getline(hl, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, option)) continue;
        const std::string flag = m[1], def = m[2];
        const std::regex  in_cell(R"((^|[^\w-]))" + std::regex_replace(flag, std::regex("-"), "\\-") + R"((?![\w-]))");
        const std::regex  value(R"((^|[^\w.]))" + std::regex_replace(def, std::regex(R"([.])"), "\\.") + R"(([^\w.]|$))");
        bool found = false;
        for (const auto & row : rows) {
            size_t c1 = row.find('|', 1), c2 = row.find('|', c1 + 1);
            if (!std::regex_search(row.substr(1, c1 - 1), in_cell)) continue;
            found = true;
            EXPECT_TRUE(std::regex_search(row.substr(c1 + 1, c2 - c1 - 1), value)) << flag << " defaults to " << def << " in --help; docs: " << row;
        }
        EXPECT_TRUE(found) << flag << " (default " << def << ") has no row in docs/server.md";
        checked++;
    }
    EXPECT_GE(checked, 30);
}
