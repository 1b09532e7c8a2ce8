// Fuzz target: sample_from_json, the JSONL sample decoder every command reads samples with.
// The bytes are parsed as JSON first (depth-limited as the server does); what parses is decoded,
// and a decoded sample must survive sample_to_json -> sample_from_json unchanged.
#include "core/sample.h"
#include "fuzz_check.h"
#include "server/requests.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    std::string in((const char *) data, size);
    if (grm::server::json_depth_exceeds(in, 64)) return 0;
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) return 0;
    auto s = grm::sample_from_json(j);
    if (!s) {
        FUZZ_CHECK(s.error().code == grm::Errc::invalid_argument);
        FUZZ_CHECK(!s.error().message.empty());
        return 0;
    }
    FUZZ_CHECK(grm::validate_sample(*s).ok());
    FUZZ_CHECK(s->n() >= 1);
    auto again = grm::sample_from_json(grm::sample_to_json(*s));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->responses == s->responses);
    FUZZ_CHECK(again->conversation.size() == s->conversation.size());
    FUZZ_CHECK(again->ratings == s->ratings && again->best == s->best && again->label == s->label);
    return 0;
}
