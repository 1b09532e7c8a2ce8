// Per-source label balancing: a seeded Fisher-Yates draw per (source, label) bucket.
#include "scaling/label_balance.h"

#include <algorithm>
#include <array>
#include <random>

namespace grm::scaling {

std::vector<SourceBalance> balance_by_source(const std::vector<std::string> & sources, const std::vector<bool> & correct,
                                             uint64_t seed, std::vector<bool> & keep) {
    std::vector<SourceBalance>                      report;
    std::vector<std::array<std::vector<size_t>, 2>> by;  // per source: indices of wrong, correct
    for (size_t i = 0; i < sources.size(); ++i) {
        size_t s = 0;
        while (s < report.size() && report[s].source != sources[i]) ++s;
        if (s == report.size()) {
            report.push_back({ sources[i] });
            by.emplace_back();
        }
        ++(correct[i] ? report[s].correct : report[s].wrong);
        by[s][correct[i]].push_back(i);
    }
    keep.assign(sources.size(), false);
    std::mt19937_64 rng(seed);
    for (size_t s = 0; s < report.size(); ++s) {
        const size_t n = std::min(by[s][0].size(), by[s][1].size());
        for (auto & idx : by[s]) {
            // Fisher-Yates with mt19937_64 (fully specified), then the first n.
            for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng() % i]);
            for (size_t i = 0; i < n; ++i) keep[idx[i]] = true;
        }
        report[s].kept = int64_t(2 * n);
    }
    return report;
}

}  // namespace grm::scaling
