// Fuzz target: split_reward_query (an OpenRLHF query, optionally with its prompt, back into a
// conversation and a response). Input: QUERY, or QUERY \0 PROMPT.
#include "fuzz_check.h"
#include "server/chat_split.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    std::string in((const char *) data, size);
    size_t      sep = in.find('\0');
    std::string query = in.substr(0, sep), prompt = sep == std::string::npos ? "" : in.substr(sep + 1);
    auto r = grm::server::split_reward_query(query, sep == std::string::npos ? nullptr : &prompt);
    if (r) {
        FUZZ_CHECK(!r->conversation.empty());
        FUZZ_CHECK(r->conversation.back().role == "user");
        FUZZ_CHECK(!r->rule.empty());
        FUZZ_CHECK(r->response.size() <= query.size());
    } else {
        FUZZ_CHECK(r.error().code == grm::Errc::invalid_argument);
        FUZZ_CHECK(!r.error().message.empty());
    }
    grm::server::parse_transcript(query);
    grm::server::strip_end_tokens(query);
    return 0;
}
