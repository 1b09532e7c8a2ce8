// Label balancing per source for the meta RM's data. The data mixes sources whose labels differ in
// rate (a teacher is mostly right, a weak policy mostly wrong), so "who wrote it" would predict the
// label. Per source, this keeps every example of the rarer label and as many of the other, drawn
// with a seeded shuffle; a source with one label only is dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grm::scaling {

struct SourceBalance {
    std::string source;
    int64_t     correct = 0, wrong = 0, kept = 0;
};

// sources[i], correct[i]: example i. keep is resized to the examples and says which stay; the
// report has one entry per source in order of first appearance.
std::vector<SourceBalance> balance_by_source(const std::vector<std::string> & sources, const std::vector<bool> & correct,
                                             uint64_t seed, std::vector<bool> & keep);

}  // namespace grm::scaling
