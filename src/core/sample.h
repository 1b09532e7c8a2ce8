// The judging input: a conversation and 1..N responses, with optional ground truth.
// Read from / written to the JSONL sample format of docs/judge-world.md.
#pragma once

#include "core/error.h"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace grm {

struct Message {
    std::string role;  // "system", "user", "assistant"
    std::string content;
};

struct Sample {
    std::string              id;
    std::string              source;  // "judgeworld", "rewardbench", ...
    std::string              domain;
    int                      level = 0;
    std::string              style;  // judge world's surface bank: empty (standard) or "heldout"
    std::vector<Message>     conversation;  // last turn is the user's query
    std::vector<std::string> responses;
    std::vector<int>         ratings;  // ground truth 1..10 per response; empty when unknown
    std::optional<int>       best;     // index of the unique best response (n >= 2)
    std::optional<int>       label;    // n == 1: 1 acceptable, 0 not

    const std::string & query() const { return conversation.back().content; }
    int                 n() const { return (int) responses.size(); }
};

// Parses one sample; errors name the offending field. Strings must be valid UTF-8.
Result<Sample>  sample_from_json(const nlohmann::json & j);
nlohmann::json  sample_to_json(const Sample & s);
// Checks the invariants of the format (non-empty conversation ending in a user turn, 1+ responses,
// ratings/best/label consistent). Used by the parser and by generators before writing.
Status          validate_sample(const Sample & s);

// Reads a whole JSONL file; a malformed line is an error naming file and line number.
// With skip_bad, malformed lines are skipped and reported in `skipped` instead.
struct SampleFile {
    std::vector<Sample>      samples;
    std::vector<std::string> skipped;  // "FILE:LINE: reason"
};
Result<SampleFile> read_samples_jsonl(const std::string & path, bool skip_bad = false);

bool is_valid_utf8(const std::string & s);

}  // namespace grm
