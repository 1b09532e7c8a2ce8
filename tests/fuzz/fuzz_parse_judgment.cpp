// Fuzz target: the judgment parser (principles, analysis, \boxed{scores}) of core/parse.cpp.
// Input: byte 0 picks n (1..8), byte 1 the finish reason, the rest is the generated text.
#include "core/parse.h"
#include "fuzz_check.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    if (size < 2) return 0;
    int               n      = 1 + data[0] % 8;
    grm::FinishReason finish = data[1] % 3 == 0 ? grm::FinishReason::length : grm::FinishReason::stop;
    std::string       text((const char *) data + 2, size - 2);
    grm::ParsedJudgment p = grm::parse_judgment(text, n, finish);
    if (p.ok()) {
        FUZZ_CHECK((int) p.scores.size() == n);
        for (int s : p.scores) FUZZ_CHECK(s >= 1 && s <= 10);
    } else {
        FUZZ_CHECK(p.scores.empty());
        FUZZ_CHECK(!p.detail.empty());
    }
    for (const auto & pr : p.principles) FUZZ_CHECK(pr.weight >= -1);
    return 0;
}
