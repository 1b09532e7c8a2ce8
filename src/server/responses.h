// Native results -> JSON response bodies for each endpoint (schemas in docs/server.md).
#pragma once

#include "core/judge.h"
#include "server/requests.h"
#include "server/task.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grm::server {

// Mean of the voted scores per response (1..10); empty when no sample was scorable.
std::vector<double> mean_rewards(const Judgment & j);
// Why a judgment has no reward: the most frequent unscorable reason among its samples.
std::string unscorable_reason(const Judgment & j);

nlohmann::json judgment_json(const Judgment & j, const JudgeRequest & req, const BatchInfo & info, double total_ms,
                             const std::string & model);

// One judgment per query, all valid results (errors are answered before this is called).
nlohmann::json reward_json(const std::vector<const Judgment *> & js, const RewardRequest & req,
                           double unscorable_reward);

nlohmann::json completion_json(const std::vector<Generation> & gens, const CompletionRequest & req, bool chat,
                               const std::string & model);

// The same reply as server-sent events ("data: {chunk}\n\n" ... "data: [DONE]\n\n").
std::string completion_sse(const std::vector<Generation> & gens, const CompletionRequest & req, bool chat,
                           const std::string & model);

// /rule_reward: rewards +1/-1, scores 1/0, extra_logs, reasons (the Unscorable name, "none" when parsed).
nlohmann::json rule_reward_json(const std::vector<scaling::RuleReward> & rs, const RuleRewardRequest & req);

// Serializes without throwing on invalid UTF-8 in generated text (replaced by U+FFFD).
std::string dump(const nlohmann::json & j);

}  // namespace grm::server
