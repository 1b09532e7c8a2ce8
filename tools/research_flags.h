// Experiment-only flags (the drills and tokenizer variants of research/README.md): hidden from
// --help and refused unless GRM_RESEARCH=1, so the product CLI lists only what the product supports
// while the lab's scripts keep working.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <string>

namespace grm::cli {

inline bool research_enabled() {
    const char * v = std::getenv("GRM_RESEARCH");
    return v != nullptr && *v != '\0' && std::string(v) != "0";
}

inline CLI::Option * research_flag(CLI::Option * o) {
    if (research_enabled()) return o->group("Research (GRM_RESEARCH=1, see research/README.md)");
    const std::string name = o->get_name();
    return o->group("")->check(
        [name](const std::string &) { return name + " is a research flag (research/README.md): set GRM_RESEARCH=1 to use it"; });
}

}  // namespace grm::cli
