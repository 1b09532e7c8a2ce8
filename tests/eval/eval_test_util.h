// Helpers shared by the eval tests: building records by hand and temporary directories.
#pragma once

#include "eval/results.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grm::test {

// A trajectory with scores in original order (empty = unscorable with `reason`).
inline TrajectoryRecord traj(std::vector<int> scores, std::string reason = "none", std::optional<double> meta = std::nullopt) {
    TrajectoryRecord t;
    for (size_t i = 0; i < (scores.empty() ? 2 : scores.size()); i++) t.order.push_back((int) i);
    t.text       = "scripted";
    t.scores     = std::move(scores);
    t.reason     = t.scores.empty() ? (reason == "none" ? "no_box" : reason) : "none";
    t.meta_score = meta;
    return t;
}

inline EvalRecord record(std::string id, int n, std::optional<int> best, std::vector<TrajectoryRecord> ts,
                         std::string domain = "d", int level = 1, std::optional<int> label = std::nullopt) {
    EvalRecord r;
    r.truth.id     = std::move(id);
    r.truth.n      = n;
    r.truth.best   = best;
    r.truth.label  = label;
    r.truth.domain = std::move(domain);
    r.truth.level  = level;
    for (auto & t : ts) {
        t.order.resize(n);
        for (int i = 0; i < n; i++) t.order[i] = i;
    }
    r.trajectories = std::move(ts);
    return r;
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string t = (std::filesystem::temp_directory_path() / "grm-eval-test-XXXXXX").string();
        path          = mkdtemp(t.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string & name) const { return (path / name).string(); }
};

}  // namespace grm::test
