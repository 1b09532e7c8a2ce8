// HTTP edge: JSON request bodies -> native task inputs, validated against the server's limits.
// Every rejection is an ApiError naming the field (and index) at fault.
#pragma once

#include "core/engine.h"
#include "core/sample.h"
#include "scaling/rule_label.h"
#include "server/api_error.h"
#include "server/server_options.h"
#include "server/task.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace grm::server {

template <class T>
struct Parsed {
    std::optional<T> value;
    ApiError         error;

    Parsed(T v) : value(std::move(v)) {}
    Parsed(ApiError e) : error(std::move(e)) {}
    bool ok() const { return value.has_value(); }
};

// Body -> JSON object: invalid UTF-8, nesting deeper than max_depth (checked before parsing: the
// parser recurses per level), malformed JSON and numbers beyond double are told apart.
Parsed<nlohmann::json> parse_body(const std::string & body, int max_depth);

// A linear scan for '[' / '{' nesting deeper than max_depth outside strings (escapes honoured);
// the byte offset of the first bracket past the limit.
struct JsonDepthError {
    size_t position = 0;
};
std::optional<JsonDepthError> json_depth_exceeds(const std::string & body, int max_depth);

struct JudgeRequest {
    Sample       sample;
    JudgeParams  params;
    bool         return_trajectories = false;
    double       timeout_s           = 0;
};
Parsed<JudgeRequest> parse_judge_request(const nlohmann::json & j, const ServerOptions & opt);

struct RewardRequest {
    std::vector<Sample>      samples;  // one per query, one response each
    std::vector<std::string> rules;    // how each response was found
    JudgeParams              params;
    double                   timeout_s = 0;
};
Parsed<RewardRequest> parse_reward_request(const nlohmann::json & j, const ServerOptions & opt);

// /rule_reward: generated judgments and the shown-order ground truth of their prompts.
struct RuleRewardRequest {
    std::vector<std::string>          judgments;  // the generated text (split from `query` or given)
    std::vector<scaling::RuleLabel>   labels;
    std::vector<bool>                 stopped;    // false: finish_reasons[i] == "length" (truncated)
    std::vector<std::string>          rules;      // how each judgment was found ("judgment" when given)
};
Parsed<RuleRewardRequest> parse_rule_reward_request(const nlohmann::json & j, const ServerOptions & opt);

struct CompletionRequest {
    GenerationRequest request;  // prompts = each prompt repeated n times
    int               n_prompts = 1;
    int               n         = 1;
    std::string       model;
    double            timeout_s = 0;
    bool              stream        = false;  // answer as server-sent events (after generation ends)
    bool              include_usage = false;  // stream_options.include_usage: a last chunk with usage
};
// chat = true: /v1/chat/completions (`messages`); false: /v1/completions (`prompt`).
Parsed<CompletionRequest> parse_completion_request(const nlohmann::json & j, const ServerOptions & opt, bool chat);

}  // namespace grm::server
