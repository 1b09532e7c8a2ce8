// Turns an OpenRLHF query (prompt + response as one detokenized string, chat-template special
// tokens included) back into a conversation and the response to judge.
//
// The response is query minus the prompts[i] prefix; without a prompt, the text after the last
// assistant marker of the first template family that occurs (ChatML, Llama 3, Gemma, DeepSeek,
// Phi, [INST], then plain "Assistant:"). Trailing end-of-turn tokens are stripped from the
// response. The prompt part is parsed into turns with the same families; text that parses into
// nothing ending in a user turn becomes one user turn (special tokens removed).
#pragma once

#include "core/error.h"
#include "core/sample.h"

#include <string>
#include <vector>

namespace grm::server {

struct RewardQuery {
    std::vector<Message> conversation;  // ends with a user turn
    std::string          response;
    std::string          rule;  // how the response was found: "prompt", "marker <|im_start|>assistant", ...
};

// prompt == nullptr or empty: split on the assistant marker.
Result<RewardQuery> split_reward_query(const std::string & query, const std::string * prompt);

std::vector<Message> parse_transcript(const std::string & text);
std::string          strip_end_tokens(std::string response);

}  // namespace grm::server
