// Fuzz target: a POST body through parse_body and each endpoint's request parser (the server's
// whole decoding path before the queue). Every input gets a value or a 400 with a code.
#include "fuzz_check.h"
#include "server/requests.h"

#include <cstdint>
#include <string>

using namespace grm::server;

namespace {

void check_error(const ApiError & e) {
    FUZZ_CHECK(e.status == 400);
    FUZZ_CHECK(!e.code.empty() && !e.message.empty());
    // the reply body must itself be valid JSON (messages quote client bytes)
    FUZZ_CHECK(!nlohmann::json::parse(e.to_json(), nullptr, false).is_discarded());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static const ServerOptions opt;
    auto body = parse_body(std::string((const char *) data, size), opt.limits.max_json_depth);
    if (!body.ok()) {
        check_error(body.error);
        return 0;
    }
    const nlohmann::json & j = *body.value;
    FUZZ_CHECK(j.is_object());

    auto judge = parse_judge_request(j, opt);
    if (judge.ok()) {
        FUZZ_CHECK(judge.value->sample.n() >= 1 && judge.value->sample.n() <= opt.limits.max_responses);
        FUZZ_CHECK(judge.value->sample.conversation.back().role == "user");
        FUZZ_CHECK(judge.value->params.k >= 1 && judge.value->params.k <= opt.limits.max_k);
        FUZZ_CHECK(judge.value->timeout_s > 0 && judge.value->timeout_s <= opt.limits.max_timeout_s);
    } else {
        check_error(judge.error);
    }

    auto reward = parse_reward_request(j, opt);
    if (reward.ok()) {
        FUZZ_CHECK((int) reward.value->samples.size() <= opt.limits.max_queries);  // empty lists are an empty batch
        FUZZ_CHECK(reward.value->samples.size() == reward.value->rules.size());
        for (const auto & s : reward.value->samples) FUZZ_CHECK(s.n() == 1 && s.conversation.back().role == "user");
    } else {
        check_error(reward.error);
    }

    auto rule = parse_rule_reward_request(j, opt);
    if (rule.ok()) {
        const auto & r = *rule.value;
        FUZZ_CHECK((int) r.judgments.size() <= opt.limits.max_queries);
        FUZZ_CHECK(r.labels.size() == r.judgments.size() && r.stopped.size() == r.judgments.size() &&
                   r.rules.size() == r.judgments.size());
        for (const auto & l : r.labels) {
            FUZZ_CHECK(l.n >= 1 && l.n <= opt.limits.max_responses);
            FUZZ_CHECK(l.n == 1 ? (l.rating && *l.rating >= 1 && *l.rating <= 10) : (l.best && *l.best >= 0 && *l.best < l.n));
        }
    } else {
        check_error(rule.error);
    }

    for (bool chat : { true, false }) {
        auto c = parse_completion_request(j, opt, chat);
        if (c.ok()) {
            FUZZ_CHECK(c.value->n >= 1 && c.value->n <= opt.limits.max_n);
            FUZZ_CHECK(c.value->request.prompts.size() == (size_t) c.value->n_prompts * (size_t) c.value->n);
            FUZZ_CHECK(c.value->request.sampling.max_tokens >= 1 && c.value->request.sampling.max_tokens <= opt.limits.max_tokens);
        } else {
            FUZZ_CHECK(c.error.status == 400);
            check_error(c.error);
        }
    }
    return 0;
}
