// Black-box tests of `grm serve`: the real binary on loopback, real GGUF models written here.
// The random model's output never parses (unscorable paths); the "boxed" model always answers
// "\boxed{7}" (valid single-response judgments with hand-computable rewards).
#include "serve_process.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

using grm::test::ServeProcess;
using json = nlohmann::json;

namespace {

// Every error body has exactly this shape.
void expect_error(const std::pair<int, json> & r, int status, const std::string & code,
                  const std::string & message_part = "") {
    EXPECT_EQ(r.first, status) << r.second.dump();
    ASSERT_TRUE(r.second.is_object()) << "body is not JSON";
    ASSERT_TRUE(r.second.contains("error")) << r.second.dump();
    const json & e = r.second["error"];
    ASSERT_TRUE(e.is_object());
    EXPECT_EQ(e.size(), 3u) << e.dump();
    ASSERT_TRUE(e["code"].is_string() && e["message"].is_string() && e["type"].is_string()) << e.dump();
    EXPECT_EQ(e["code"], code) << e.dump();
    if (!message_part.empty()) {
        EXPECT_NE(e["message"].get<std::string>().find(message_part), std::string::npos) << e.dump();
    }
}

json judge_body(int n_responses = 2) {
    json j = { { "query", "What is 2+2?" }, { "responses", json::array() } };
    for (int i = 0; i < n_responses; i++) j["responses"].push_back("Answer " + std::to_string(i));
    return j;
}

const std::string k_chatml_prompt = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n";

// Sample texts of a judgment, for comparing runs.
std::vector<std::string> texts(const json & j) {
    std::vector<std::string> out;
    for (const auto & s : j["samples"]) out.push_back(s.value("text", ""));
    return out;
}

double metric(const std::string & text, const std::string & line_prefix) {
    size_t p = text.find("\n" + line_prefix + " ");
    if (p == std::string::npos) return -1;
    return std::stod(text.substr(p + line_prefix.size() + 2));
}

class RandomModel : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server = new ServeProcess(grm::test::random_judge_model(),
                                  { "-k", "2", "--max-tokens", "8", "--seed", "1", "--max-responses", "4",
                                    "--max-body", "65536", "--max-choices", "4", "--ctx", "2048" });
    }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static ServeProcess * server;
};
ServeProcess * RandomModel::server = nullptr;

class BoxedModel : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server = new ServeProcess(grm::test::boxed_seven_model(), { "-k", "4", "--max-tokens", "16", "--ctx", "2048" });
    }
    static void TearDownTestSuite() {
        delete server;
        server = nullptr;
    }
    static ServeProcess * server;
};
ServeProcess * BoxedModel::server = nullptr;

}  // namespace

// ---- /health, /metrics, routing --------------------------------------------------------------

TEST_F(RandomModel, HealthReportsModelAndQueue) {
    auto [status, body] = server->get("/health");
    ASSERT_EQ(status, 200);
    json h = json::parse(body);
    EXPECT_EQ(h["status"], "ok");
    EXPECT_TRUE(h["model"].is_string());
    EXPECT_EQ(h["queue_capacity"], 256);
}

TEST_F(RandomModel, UnknownPathAndWrongMethod) {
    expect_error(server->post("/v1/nothing", std::string("{}")), 404, "not_found", "/v1/nothing");
    auto [status, body] = server->get("/v1/judge");
    expect_error({ status, json::parse(body, nullptr, false) }, 405, "method_not_allowed");
}

// ---- /v1/judge ---------------------------------------------------------------------------------

TEST_F(RandomModel, JudgeUnscorableShape) {
    json req                   = judge_body(2);
    req["return_trajectories"] = true;
    auto [status, j]           = server->post("/v1/judge", req);
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["object"], "grm.judgment");
    EXPECT_EQ(j["n"], 2);
    EXPECT_EQ(j["k"], 2);
    // eight random tokens never make a box: no reward, and the reason says why
    EXPECT_EQ(j["valid"], false);
    EXPECT_TRUE(j["rewards"].is_null());
    EXPECT_TRUE(j["mean_scores"].is_null());
    EXPECT_TRUE(j["best"].is_null());
    EXPECT_EQ(j["n_valid"], 0);
    EXPECT_EQ(j["n_voted"], 0);
    ASSERT_TRUE(j["unscorable_reason"].is_string());
    int counted = 0;
    for (auto & [reason, c] : j["unscorable"].items()) counted += c.get<int>();
    EXPECT_EQ(counted, 2);
    ASSERT_EQ(j["samples"].size(), 2u);
    for (const auto & s : j["samples"]) {
        EXPECT_EQ(s["valid"], false);
        EXPECT_TRUE(s["scores"].is_null());
        const std::string finish = s["finish"], reason = s["reason"];
        EXPECT_EQ(reason, finish == "length" ? "truncated" : "no_box");
        EXPECT_FALSE(s["detail"].get<std::string>().empty());
        std::set<int> order(s["order"].begin(), s["order"].end());
        EXPECT_EQ(order, (std::set<int>{ 0, 1 }));
        EXPECT_TRUE(s.contains("text"));
        EXPECT_TRUE(s["principles"].is_array());
        EXPECT_TRUE(s["meta_score"].is_null());
        EXPECT_GT(s["prompt_tokens"].get<int>(), 100);
        EXPECT_LE(s["completion_tokens"].get<int>(), 8);
    }
    EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 200) << j["timings"].dump();
    EXPECT_EQ(j["usage"]["total_tokens"], j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
    for (const char * t : { "queue_ms", "inference_ms", "total_ms", "batch_tasks" }) EXPECT_TRUE(j["timings"].contains(t));
    EXPECT_EQ(j["options"]["seed"], 1);
}

TEST_F(RandomModel, JudgeSameSeedSameResultOtherSeedDiffers) {
    json req                   = judge_body(1);
    req["return_trajectories"] = true;
    req["seed"]                = 11;
    req["temperature"]         = 1.0;
    auto a                     = server->post("/v1/judge", req);
    auto b                     = server->post("/v1/judge", req);
    req["seed"]                = 12;
    auto c                     = server->post("/v1/judge", req);
    ASSERT_EQ(a.first, 200);
    ASSERT_EQ(b.first, 200);
    ASSERT_EQ(c.first, 200);
    EXPECT_EQ(texts(a.second), texts(b.second));
    EXPECT_NE(texts(a.second), texts(c.second));
    // without return_trajectories the raw text stays out
    req.erase("return_trajectories");
    auto d = server->post("/v1/judge", req);
    EXPECT_FALSE(d.second["samples"][0].contains("text"));
}

TEST_F(RandomModel, JudgeBadInput) {
    expect_error(server->post("/v1/judge", std::string("{\"query\": \"x\", ")), 400, "invalid_json");
    expect_error(server->post("/v1/judge", std::string("{\"query\": \"\xff\xfe\", \"responses\": [\"a\"]}")), 400, "invalid_utf8");
    expect_error(server->post("/v1/judge", std::string("[1, 2]")), 400, "invalid_request");
    expect_error(server->post("/v1/judge", json{ { "query", "q" } }), 400, "missing_field", "responses");
    expect_error(server->post("/v1/judge", json{ { "responses", { "a" } } }), 400, "missing_field", "conversation");
    expect_error(server->post("/v1/judge", json{ { "query", "q" }, { "responses", "a" } }), 400, "invalid_field", "responses");
    expect_error(server->post("/v1/judge", json{ { "query", "q" }, { "responses", { "a", 3 } } }), 400, "invalid_field", "responses[1]");
    expect_error(server->post("/v1/judge", json{ { "query", 5 }, { "responses", { "a" } } }), 400, "invalid_field", "query");
    expect_error(server->post("/v1/judge", json{ { "query", "q" }, { "responses", json::array() } }), 400, "empty_responses");
    expect_error(server->post("/v1/judge", judge_body(5)), 400, "too_many_responses", "at most 4");
    json bad_k = judge_body(2);
    bad_k["k"] = 0;
    expect_error(server->post("/v1/judge", bad_k), 400, "invalid_field", "'k'");
    json bad_t          = judge_body(2);
    bad_t["temperature"] = "hot";
    expect_error(server->post("/v1/judge", bad_t), 400, "invalid_field", "temperature");
    json conv = { { "conversation", { { { "role", "user" }, { "content", "hi" } }, { { "role", "assistant" }, { "content", "yo" } } } },
                  { "responses", { "a" } } };
    expect_error(server->post("/v1/judge", conv), 400, "invalid_field", "last turn");
    // a query longer than the 2048-token context
    json longq     = judge_body(1);
    longq["query"] = std::string(3000, 'x');
    expect_error(server->post("/v1/judge", longq), 400, "context_overflow");
    // over --max-body
    json big     = judge_body(1);
    big["query"] = std::string(70000, 'y');
    expect_error(server->post("/v1/judge", big), 413, "body_too_large");
    // still serving
    EXPECT_EQ(server->post("/v1/judge", judge_body(1)).first, 200);
    EXPECT_TRUE(server->alive());
}

TEST_F(BoxedModel, JudgeSingleResponseRewards) {
    json req = judge_body(1);
    req["k"] = 3;
    auto [status, j] = server->post("/v1/judge", req);
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["valid"], true);
    EXPECT_EQ(j["n_valid"], 3);
    EXPECT_EQ(j["n_voted"], 3);
    EXPECT_EQ(j["rewards"], json::array({ 21.0 }));  // voting: 7 + 7 + 7
    EXPECT_EQ(j["mean_scores"], json::array({ 7.0 }));
    EXPECT_EQ(j["best"], 0);
    EXPECT_TRUE(j["unscorable_reason"].is_null());
    for (const auto & s : j["samples"]) {
        EXPECT_EQ(s["valid"], true);
        EXPECT_EQ(s["scores"], json::array({ 7 }));
        EXPECT_EQ(s["voted"], true);
        EXPECT_EQ(s["finish"], "stop");
    }
}

TEST_F(BoxedModel, JudgeTwoResponsesIsWrongCount) {
    auto [status, j] = server->post("/v1/judge", judge_body(2));
    ASSERT_EQ(status, 200);
    EXPECT_EQ(j["valid"], false);
    EXPECT_EQ(j["unscorable_reason"], "wrong_count");
    EXPECT_EQ(j["unscorable"]["wrong_count"], 4);
}

// A model that always writes "\\boxed{12}": out of range, unscorable unless the request (or
// --clip-scores) clips it to 10 as the DeepSeek-GRM model card's code does.
TEST(ServerClip, OutOfRangeIsReportedUnlessClipped) {
    ServeProcess s(grm::test::boxed_model("12"), { "-k", "2", "--max-tokens", "16", "--ctx", "2048" });
    auto [status, strict] = s.post("/v1/judge", judge_body(1));
    ASSERT_EQ(status, 200) << strict.dump();
    EXPECT_EQ(strict["valid"], false);
    EXPECT_EQ(strict["unscorable_reason"], "out_of_range");
    EXPECT_EQ(strict["samples"][0]["detail"], "score 12 outside 1..10");
    json req           = judge_body(1);
    req["clip_scores"] = true;
    auto [st2, clipped] = s.post("/v1/judge", req);
    ASSERT_EQ(st2, 200) << clipped.dump();
    EXPECT_EQ(clipped["valid"], true);
    EXPECT_EQ(clipped["rewards"], json::array({ 20.0 }));  // 10 + 10
    EXPECT_EQ(clipped["options"]["clip_scores"], true);
    for (const auto & t : clipped["samples"]) {
        EXPECT_EQ(t["scores"], json::array({ 10 }));
        EXPECT_EQ(t["clipped"], 1);
    }
    req["clip_scores"] = "yes";
    auto [st3, bad]    = s.post("/v1/judge", req);
    EXPECT_EQ(st3, 400);
    EXPECT_NE(bad["error"]["message"].get<std::string>().find("clip_scores"), std::string::npos) << bad.dump();
}

// ---- /get_reward (OpenRLHF) -------------------------------------------------------------------

// Written from the protocol: query = prompt + response with the policy's template tokens.
TEST_F(BoxedModel, OpenRLHFClient) {
    json req = { { "query", { k_chatml_prompt + "4<|im_end|>", k_chatml_prompt + "5<|im_end|>", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello" } },
                 { "prompts", { k_chatml_prompt, k_chatml_prompt, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" } },
                 { "labels", { nullptr, "4", nullptr } } };
    auto [status, j] = server->post("/get_reward", req);
    ASSERT_EQ(status, 200) << j.dump();
    ASSERT_EQ(j["rewards"].size(), 3u);
    ASSERT_EQ(j["scores"].size(), 3u);
    for (size_t i = 0; i < 3; i++) {
        EXPECT_DOUBLE_EQ(j["rewards"][i].get<double>(), 7.0);
        EXPECT_NEAR(j["scores"][i].get<double>(), 6.0 / 9.0, 1e-12);
    }
    // every extra_logs entry is a list of numbers aligned with query (OpenRLHF makes tensors of them)
    for (auto & [key, v] : j["extra_logs"].items()) {
        ASSERT_TRUE(v.is_array()) << key;
        ASSERT_EQ(v.size(), 3u) << key;
        for (const auto & x : v) EXPECT_TRUE(x.is_number()) << key;
    }
    EXPECT_EQ(j["extra_logs"]["valid"], json::array({ 1.0, 1.0, 1.0 }));
    EXPECT_EQ(j["unscorable_reason"], json::array({ nullptr, nullptr, nullptr }));
    EXPECT_EQ(j["split_rule"][0], "prompt");
}

TEST_F(BoxedModel, OpenRLHFQueryOnlyClient) {
    // older clients send only `query`: split on the last assistant marker
    auto [status, j] = server->post("/get_reward", json{ { "query", { k_chatml_prompt + "4<|im_end|>" } } });
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_DOUBLE_EQ(j["rewards"][0].get<double>(), 7.0);
    EXPECT_EQ(j["split_rule"][0], "marker <|im_start|>assistant\n");
}

TEST_F(RandomModel, OpenRLHFUnscorableIsVisible) {
    json req = { { "query", { k_chatml_prompt + "4<|im_end|>", k_chatml_prompt + "22<|im_end|>" } },
                 { "prompts", { k_chatml_prompt, k_chatml_prompt } },
                 { "labels", { nullptr, nullptr } } };
    auto [status, j] = server->post("/get_reward", req);
    ASSERT_EQ(status, 200) << j.dump();
    // documented: reward 0 (--unscorable-reward), score 0, valid 0, the reason beside it
    EXPECT_EQ(j["rewards"], json::array({ 0.0, 0.0 }));
    EXPECT_EQ(j["scores"], json::array({ 0.0, 0.0 }));
    EXPECT_EQ(j["extra_logs"]["valid"], json::array({ 0.0, 0.0 }));
    EXPECT_EQ(j["extra_logs"]["unscorable_rate"], json::array({ 1.0, 1.0 }));
    EXPECT_EQ(j["extra_logs"]["n_voted"], json::array({ 0, 0 }));
    for (const auto & r : j["unscorable_reason"]) {
        ASSERT_TRUE(r.is_string());
        EXPECT_TRUE(r == "truncated" || r == "no_box") << r;
    }
}

TEST_F(RandomModel, OpenRLHFBadInput) {
    expect_error(server->post("/get_reward", json{ { "prompts", { "a" } } }), 400, "missing_field", "query");
    expect_error(server->post("/get_reward", json{ { "query", 3 } }), 400, "invalid_field", "query");
    expect_error(server->post("/get_reward", json{ { "query", { "a", "b" } }, { "prompts", { "a" } } }), 400, "invalid_field",
                 "prompts");
    expect_error(server->post("/get_reward", json{ { "query", { "no marker here" } } }), 400, "unsplittable_query", "query[0]");
    expect_error(server->post("/get_reward", json{ { "query", { k_chatml_prompt + "x", 7 } } }), 400, "invalid_field", "query[1]");
    expect_error(server->post("/get_reward", json{ { "query", { k_chatml_prompt + std::string(3000, 'z') } } }), 400,
                 "context_overflow", "query[0]");
}

// OpenRLHF shards a batch over its reward URLs: the surplus ones get empty lists.
TEST_F(RandomModel, OpenRLHFEmptyLists) {
    auto [status, j] = server->post("/get_reward", json{ { "query", json::array() }, { "prompts", json::array() }, { "labels", json::array() } });
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["rewards"], json::array());
    EXPECT_EQ(j["scores"], json::array());
    ASSERT_EQ(j["extra_logs"].size(), 4u);
    for (auto & [key, v] : j["extra_logs"].items()) EXPECT_EQ(v, json::array()) << key;
    auto [s2, j2] = server->post("/rule_reward", json{ { "query", json::array() }, { "prompts", json::array() }, { "labels", json::array() } });
    ASSERT_EQ(s2, 200) << j2.dump();
    EXPECT_EQ(j2["rewards"], json::array());
    EXPECT_EQ(j2["extra_logs"], (json{ { "correct", json::array() }, { "valid", json::array() }, { "truncated", json::array() } }));
}

// ---- /rule_reward (training a GRM elsewhere) ---------------------------------------------------

TEST_F(RandomModel, RuleRewardScoresJudgments) {
    // best shown at position 1 of 2; one response rated 7
    json req = { { "judgments", { "Scores: \\boxed{3, 8}", "Scores: \\boxed{8, 3}", "Scores: \\boxed{5, 5}", "no box at all",
                                  "Scores: \\boxed{7}", "Scores: \\boxed{6}", "Scores: \\boxed{3, 8}" } },
                 { "labels", { "{\"n\": 2, \"best\": 1}", json{ { "n", 2 }, { "best", 1 } }, json{ { "n", 2 }, { "best", 1 } },
                               json{ { "n", 2 }, { "best", 1 } }, json{ { "n", 1 }, { "rating", 7 } }, json{ { "n", 1 }, { "rating", 7 } },
                               json{ { "n", 2 }, { "best", 1 } } } },
                 { "finish_reasons", { "stop", nullptr, "stop", "length", "stop", "stop", "length" } } };
    auto [status, j] = server->post("/rule_reward", req);
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["rewards"], json::array({ 1.0, -1.0, -1.0, -1.0, 1.0, -1.0, 1.0 }));
    EXPECT_EQ(j["scores"], json::array({ 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0 }));
    // a complete box is scored even when the length limit came after it
    EXPECT_EQ(j["reasons"], json::array({ "none", "none", "none", "truncated", "none", "none", "none" }));
    EXPECT_EQ(j["extra_logs"]["valid"], json::array({ 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0 }));
    EXPECT_EQ(j["extra_logs"]["truncated"], json::array({ 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0 }));
    EXPECT_EQ(j["split_rule"][0], "judgment");

    // OpenRLHF style: the judgment is query minus prompt, end-of-turn token stripped
    json q = { { "query", { k_chatml_prompt + "Scores: \\boxed{2, 9}<|im_end|>" } }, { "prompts", { k_chatml_prompt } },
               { "labels", { "{\"n\": 2, \"best\": 0}" } } };
    auto [s2, j2] = server->post("/rule_reward", q);
    ASSERT_EQ(s2, 200) << j2.dump();
    EXPECT_EQ(j2["rewards"], json::array({ -1.0 }));
    EXPECT_EQ(j2["split_rule"][0], "prompt");

    // one response judged 0/1 (grm rl export --binary-single): the label, not a rating
    json b = { { "judgments", { "Scores: \\boxed{0}", "Scores: \\boxed{1}", "Scores: \\boxed{1}", "Scores: \\boxed{7}" } },
               { "labels", { json{ { "n", 1 }, { "label", 0 } }, json{ { "n", 1 }, { "label", 0 } }, "{\"n\": 1, \"label\": 1}",
                             json{ { "n", 1 }, { "label", 1 } } } } };
    auto [s3, j3] = server->post("/rule_reward", b);
    ASSERT_EQ(s3, 200) << j3.dump();
    EXPECT_EQ(j3["rewards"], json::array({ 1.0, -1.0, 1.0, -1.0 }));
    EXPECT_EQ(j3["reasons"], json::array({ "none", "none", "none", "out_of_range" }));
}

TEST_F(RandomModel, RuleRewardBadInput) {
    json one = json::array({ "x" });
    expect_error(server->post("/rule_reward", json{ { "judgments", one } }), 400, "missing_field", "labels");
    expect_error(server->post("/rule_reward", json{ { "labels", one } }), 400, "missing_field", "judgments");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", json::array() } }), 400, "invalid_field",
                 "'labels' has 0 entries for 1 judgments");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", { "{n: 2" } } }), 400, "invalid_label",
                 "labels[0]");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", { json{ { "n", 0 } } } } }), 400,
                 "invalid_label", "key 'n'");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", { json{ { "n", 2 }, { "best", 2 } } } } }),
                 400, "invalid_label", "key 'best': position 2 is outside 0..1");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", { json{ { "n", 2 } } } } }), 400,
                 "invalid_label", "key 'best'");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", { json{ { "n", 1 }, { "rating", 11 } } } } }),
                 400, "invalid_label", "key 'rating'");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", { json{ { "n", 1 }, { "label", 2 } } } } }),
                 400, "invalid_label", "key 'label': 2 is not 0 or 1");
    expect_error(server->post("/rule_reward",
                              json{ { "judgments", one }, { "labels", { json{ { "n", 1 }, { "label", 1 }, { "rating", 5 } } } } }),
                 400, "invalid_label", "not both");
    expect_error(server->post("/rule_reward", json{ { "judgments", one }, { "labels", { json{ { "n", 1 }, { "rating", 5 } } } },
                                                    { "finish_reasons", { "eos" } } }),
                 400, "invalid_field", "finish_reasons[0]");
    expect_error(server->post("/rule_reward", json{ { "judgments", { 3 } }, { "labels", { json{ { "n", 1 }, { "rating", 5 } } } } }),
                 400, "invalid_field", "judgments[0]");
}

// ---- OpenAI-compatible ------------------------------------------------------------------------

TEST_F(BoxedModel, ChatCompletions) {
    json req = { { "model", "anything" }, { "messages", { { { "role", "user" }, { "content", "Score this." } } } },
                 { "n", 2 }, { "max_tokens", 20 }, { "temperature", 0.7 }, { "seed", 3 } };
    auto [status, j] = server->post("/v1/chat/completions", req);
    ASSERT_EQ(status, 200) << j.dump();
    EXPECT_EQ(j["object"], "chat.completion");
    ASSERT_EQ(j["choices"].size(), 2u);
    for (const auto & c : j["choices"]) {
        EXPECT_EQ(c["message"]["role"], "assistant");
        EXPECT_EQ(c["message"]["content"], "\\boxed{7}");
        EXPECT_EQ(c["finish_reason"], "stop");
    }
    EXPECT_GT(j["usage"]["completion_tokens"].get<int>(), 0);
    req["stop"]      = { "{" };
    req["n"]         = 1;
    auto [s2, j2]    = server->post("/v1/chat/completions", req);
    ASSERT_EQ(s2, 200) << j2.dump();
    EXPECT_EQ(j2["choices"][0]["message"]["content"], "\\boxed");
    req.erase("stop");
    req["max_tokens"] = 3;
    auto [s3, j3]     = server->post("/v1/chat/completions", req);
    ASSERT_EQ(s3, 200);
    EXPECT_EQ(j3["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j3["choices"][0]["message"]["content"], "\\bo");

    // Earlier turns go through the chat template as turns of their own: with byte-level pieces and
    // a space prefix on each text after a control token, "<|im_start|>system\ns<|im_end|>\n" is
    // 1 + (1 + 8) + 1 + (1 + 1) = 13 tokens, the user turn "a" 11, the assistant turn "b" 16.
    json multi        = req;
    multi["messages"] = { { { "role", "system" }, { "content", "s" } }, { { "role", "user" }, { "content", "a" } },
                          { { "role", "assistant" }, { "content", "b" } }, { { "role", "user" }, { "content", "Score this." } } };
    auto [s4, j4] = server->post("/v1/chat/completions", multi);
    ASSERT_EQ(s4, 200) << j4.dump();
    EXPECT_EQ(j4["usage"]["prompt_tokens"].get<int>(), j3["usage"]["prompt_tokens"].get<int>() + 13 + 11 + 16);
}

TEST_F(RandomModel, CompletionsSeededAndValidUtf8) {
    json req = { { "prompt", { "abc", "xyz" } }, { "n", 2 }, { "max_tokens", 6 }, { "temperature", 1.0 }, { "seed", 5 } };
    auto a   = server->post("/v1/completions", req);
    auto b   = server->post("/v1/completions", req);
    ASSERT_EQ(a.first, 200) << a.second.dump();
    EXPECT_EQ(a.second["object"], "text_completion");
    ASSERT_EQ(a.second["choices"].size(), 4u);
    EXPECT_EQ(a.second["choices"], b.second["choices"]);
    // byte-fallback pieces from random weights may not be UTF-8; the reply still parses as JSON
    EXPECT_TRUE(a.second["choices"][0]["text"].is_string());
}

TEST_F(RandomModel, OpenAIBadInput) {
    expect_error(server->post("/v1/chat/completions", json{ { "n", 1 } }), 400, "missing_field", "messages");
    expect_error(server->post("/v1/chat/completions", json{ { "messages", "hi" } }), 400, "invalid_field", "messages");
    expect_error(server->post("/v1/chat/completions", json{ { "messages", { { { "role", "user" } } } } }), 400, "missing_field",
                 "messages[0].content");
    json msgs = { { { "role", "user" }, { "content", "hi" } } };
    expect_error(server->post("/v1/chat/completions", json{ { "messages", msgs }, { "n", 5 } }), 400, "invalid_field", "'n'");
    expect_error(server->post("/v1/chat/completions", json{ { "messages", msgs }, { "stream", 1 } }), 400, "invalid_field", "stream");
    expect_error(server->post("/v1/chat/completions", json{ { "messages", { { { "role", "assistant" }, { "content", "x" } } } } }),
                 400, "invalid_field", "last message");
    expect_error(server->post("/v1/completions", json{ { "prompt", { 1, 2, 3 } } }), 400, "unsupported", "token-id");
    expect_error(server->post("/v1/completions", json{ { "prompt", "x" }, { "max_tokens", -1 } }), 400, "invalid_field", "max_tokens");
    expect_error(server->post("/v1/completions", json{ { "prompt", std::string(3000, 'p') }, { "max_tokens", 4 } }), 400,
                 "context_overflow");
}

TEST_F(RandomModel, MetricsAfterTraffic) {
    ASSERT_EQ(server->post("/v1/judge", judge_body(1)).first, 200);
    ASSERT_EQ(server->post("/v1/judge", json{ { "query", 1 } }).first, 400);
    auto [status, text] = server->get("/metrics");
    ASSERT_EQ(status, 200);
    EXPECT_GE(metric(text, "grm_http_requests_total{endpoint=\"/v1/judge\",status=\"200\"}"), 1);
    EXPECT_GE(metric(text, "grm_http_requests_total{endpoint=\"/v1/judge\",status=\"400\"}"), 1);
    EXPECT_GE(metric(text, "grm_http_request_duration_seconds_count{endpoint=\"/v1/judge\"}"), 2);
    EXPECT_NE(text.find("grm_http_request_duration_seconds_bucket{endpoint=\"/v1/judge\",le=\"+Inf\"}"), std::string::npos);
    EXPECT_EQ(metric(text, "grm_queue_depth"), 0);
    EXPECT_GE(metric(text, "grm_samples_generated_total"), 2);
    EXPECT_DOUBLE_EQ(metric(text, "grm_unscorable_rate"), 1.0);
    EXPECT_GT(metric(text, "grm_tokens_per_second"), 0);
    EXPECT_GE(metric(text, "grm_judgments_unscorable_total"), 1);
}

// ---- auth ----------------------------------------------------------------------------------------

TEST(ServerAuth, BearerToken) {
    ServeProcess s(grm::test::boxed_seven_model(), { "--api-key", "s3cret", "--max-tokens", "16" });
    expect_error(s.post("/v1/judge", judge_body(1).dump()), 401, "unauthorized");
    expect_error(s.post("/v1/judge", judge_body(1).dump(), { { "Authorization", "Bearer wrong" } }), 401, "unauthorized");
    auto ok = s.post("/v1/judge", judge_body(1).dump(), { { "Authorization", "Bearer s3cret" } });
    EXPECT_EQ(ok.first, 200) << ok.second.dump();
    EXPECT_EQ(s.get("/health").first, 200);  // probes need no token
    EXPECT_EQ(s.get("/metrics").first, 401);
}

// ---- load, cancellation, shutdown ----------------------------------------------------------------

// 64 clients for a bounded time against a small queue: every request gets 200 or 429 (with
// Retry-After), nothing crashes, and every 200 equals the single-client answer for its body.
TEST(ServerLoad, SixtyFourClients) {
    ServeProcess s(grm::test::random_judge_model(),
                   { "-k", "2", "--max-tokens", "6", "--queue", "8", "--max-batch", "4", "--ctx", "2048" });
    // bounded: 64 clients for 4 s
    std::vector<json> bodies;
    for (int i = 0; i < 4; i++) {
        json b                   = judge_body(1);
        b["query"]               = "Question number " + std::to_string(i);
        b["seed"]                = 100 + i;
        b["temperature"]         = 1.0;
        b["return_trajectories"] = true;
        bodies.push_back(b);
    }
    std::vector<std::vector<std::string>> reference;
    for (const auto & b : bodies) {
        auto r = s.post("/v1/judge", b);
        ASSERT_EQ(r.first, 200) << r.second.dump();
        reference.push_back(texts(r.second));
    }

    std::atomic<int> ok{ 0 }, busy{ 0 }, other{ 0 }, mismatch{ 0 }, no_retry_after{ 0 };
    std::mutex       other_mutex;
    std::string      other_seen;
    auto             until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    std::vector<std::thread> clients;
    for (int c = 0; c < 64; c++) {
        clients.emplace_back([&, c] {
            for (int i = 0; std::chrono::steady_clock::now() < until && i < 50; i++) {
                const int       which = (c + i) % 4;
                httplib::Client cli   = s.client(60);
                auto            res   = cli.Post("/v1/judge", bodies[which].dump(), "application/json");
                if (!res) {
                    other++;
                    std::lock_guard<std::mutex> lock(other_mutex);
                    other_seen += "connection error " + httplib::to_string(res.error()) + "; ";
                } else if (res->status == 200) {
                    ok++;
                    if (texts(json::parse(res->body)) != reference[which]) mismatch++;
                } else if (res->status == 429) {
                    busy++;
                    if (!res->has_header("Retry-After")) no_retry_after++;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                } else {
                    other++;
                    std::lock_guard<std::mutex> lock(other_mutex);
                    other_seen += std::to_string(res->status) + " " + res->body + "; ";
                }
            }
        });
    }
    for (auto & t : clients) t.join();
    EXPECT_GT(ok.load(), 0);
    EXPECT_GT(busy.load(), 0) << "64 clients against a queue of 8 should see 429s";
    EXPECT_EQ(other.load(), 0) << "ok " << ok.load() << " busy " << busy.load() << ": " << other_seen.substr(0, 300) << "\n" << s.log();
    EXPECT_EQ(mismatch.load(), 0) << "batched results differ from single-client results";
    EXPECT_EQ(no_retry_after.load(), 0);
    EXPECT_TRUE(s.alive());
    auto [status, text] = s.get("/metrics");
    // concurrent requests shared engine calls
    EXPECT_GT(metric(text, "grm_engine_batch_tasks_total"), metric(text, "grm_engine_batches_total"));
    EXPECT_GE(metric(text, "grm_queue_full_total"), busy.load());
}

// A client that gives up while its request waits in the queue: the server notices, answers 499
// in its log and metrics, and never runs the task.
TEST(ServerLoad, DisconnectCancelsQueuedRequest) {
    ServeProcess s(grm::test::random_judge_model(), { "-k", "2", "--max-batch", "1", "--batch-window-ms", "0", "--ctx", "2048" });
    // 32 long requests run one per engine call ahead of the impatient one (a random model ends
    // samples early at random, so it takes many to keep the engine busy well past 0.3 s)
    json slow          = judge_body(1);
    slow["max_tokens"] = 1300;
    slow["k"]          = 8;
    auto                     t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> blockers;
    for (int i = 0; i < 32; i++) {
        blockers.emplace_back([&, i] {
            json b    = slow;
            b["seed"] = i;
            EXPECT_EQ(s.post("/v1/judge", b).first, 200);
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto gone = s.post("/v1/judge", judge_body(1).dump(), {}, 0.3);  // client read timeout: 0.3 s
    EXPECT_EQ(gone.first, -1);
    for (auto & t : blockers) t.join();
    double blocked_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_GT(blocked_s, 0.6) << "the queue must outlast the impatient client for this test to mean anything";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto [status, text] = s.get("/metrics");
    EXPECT_EQ(metric(text, "grm_http_requests_total{endpoint=\"/v1/judge\",status=\"499\"}"), 1) << text;
    EXPECT_EQ(metric(text, "grm_engine_batches_total"), 32) << "the abandoned task must not run";
}

// SIGTERM while requests are running and queued: all of them are answered, then it exits 0.
TEST(ServerShutdown, FinishesInFlightWork) {
    ServeProcess s(grm::test::random_judge_model(), { "-k", "2", "--max-batch", "2", "--ctx", "2048" });
    json slow          = judge_body(1);
    slow["max_tokens"] = 120;
    std::vector<int>         statuses(6, 0);
    std::vector<std::thread> clients;
    for (int i = 0; i < 6; i++) clients.emplace_back([&, i] { statuses[i] = s.post("/v1/judge", slow).first; });
    // wait until they are all in (bounded)
    for (int i = 0; i < 200; i++) {
        auto [st, body] = s.get("/health");
        if (st == 200 && json::parse(body)["in_flight"].get<int>() == 6) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_t pid = s.pid();
    kill(pid, SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto late = s.post("/v1/judge", judge_body(1));
    EXPECT_TRUE(late.first == 503 || late.first == -1) << late.first;
    for (auto & t : clients) t.join();
    for (int st : statuses) EXPECT_EQ(st, 200);
    EXPECT_EQ(s.wait_exit(30), 0) << s.log();
}
