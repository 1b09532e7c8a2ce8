// Per-input evaluation records and the append-only JSONL results file that makes a run resumable.
#pragma once

#include "core/error.h"
#include "core/judge.h"
#include "core/sample.h"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace grm {

// One sampled judgment as stored: enough to re-vote at any k and to audit the text.
struct TrajectoryRecord {
    std::vector<int>      order;   // order[p] = original index shown at position p
    std::string           text;
    std::string           finish;  // finish_reason_name()
    std::vector<int>      scores;  // original order; empty when unscorable
    std::string           reason = "none";  // unscorable_name(); "none" when scored
    std::string           detail;
    std::optional<double> meta_score;
};

// The ground truth of an input, copied into its record so metrics need only the results file
// (benchmark responses are long; they are not repeated here).
struct Truth {
    std::string        id;
    std::string        source;
    std::string        domain;
    int                level = 0;
    std::string        style;  // judge world surface bank; empty: standard (see style_of)
    int                n     = 0;
    std::vector<int>   ratings;
    std::optional<int> best;
    std::optional<int> label;
};

Truth truth_of(const Sample & s);
// A record's style for the by-style tables: "standard" when the sample carried none.
std::string style_of(const Truth & t);

// One line of results.jsonl: an input with all its K trajectories, or the reason it was skipped.
struct EvalRecord {
    Truth                         truth;
    std::string                   skipped;  // empty when judged; else "context_overflow: ..." etc.
    std::vector<TrajectoryRecord> trajectories;
};

EvalRecord           record_from_judgment(const Sample & s, const Judgment & j);
nlohmann::json       record_to_json(const EvalRecord & r);
Result<EvalRecord>   record_from_json(const nlohmann::json & j);

// Rebuilds the core Judgment (trajectories only) so grm::vote can be applied at any k.
Judgment judgment_of(const EvalRecord & r);

// An append-only results file. Opening reads what is there, cuts a torn last line (the process
// was killed mid-write) and remembers which ids are done; append() writes whole lines and
// fsyncs before returning, so a kill loses at most the batch in flight, never a finished one.
class ResultsFile {
  public:
    ~ResultsFile();
    ResultsFile(const ResultsFile &)             = delete;
    ResultsFile & operator=(const ResultsFile &) = delete;

    static Result<std::unique_ptr<ResultsFile>> open(const std::string & path);

    const std::vector<EvalRecord> & records() const { return records_; }
    bool                            done(const std::string & id) const { return done_.count(id) > 0; }
    bool                            dropped_torn_line() const { return dropped_torn_; }
    const std::string &             path() const { return path_; }

    Status append(const std::vector<EvalRecord> & batch);

  private:
    ResultsFile() = default;

    std::string             path_;
    int                     fd_ = -1;
    std::vector<EvalRecord> records_;
    std::set<std::string>   done_;
    bool                    dropped_torn_ = false;
};

// Reads a results file without modifying it (for reports); a torn last line is ignored.
Result<std::vector<EvalRecord>> read_results(const std::string & path);

}  // namespace grm
