// `grm eval` as a library: judge every input K times once, store every trajectory, resume after
// any interruption, then report voting@k for each k from that one sample set, greedy beside it.
#pragma once

#include "core/engine.h"
#include "core/error.h"
#include "core/judge.h"
#include "core/sample.h"
#include "eval/metrics.h"
#include "eval/results.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grm {

struct EvalParams {
    std::vector<int> ks = { 1, 2, 4, 8, 16, 32 };  // K = the largest; smaller k vote over a prefix
    JudgeParams      judge;         // judge.k is set to K; judge.sampling holds the temperature
    bool             greedy = false;  // also a temperature-0, k = 1 run, kept in greedy.jsonl
    int              batch  = 4;      // inputs per engine call (each brings K generations)
    uint64_t         seed   = 0;      // sampling/shuffle seed and the random tie-break seed

    // For the report only.
    std::string              command_line;
    std::string              model;
    std::string              data;
    std::string              benchmark;  // non-empty: add that benchmark's official metrics
    std::vector<std::string> bad_lines;  // "FILE:LINE: reason" of inputs skipped by --skip-bad

    std::function<void(const std::string &)> log;  // progress lines; may be empty
};

struct EvalOutcome {
    RunSummary                sampled;
    std::optional<RunSummary> greedy;
    int                       resumed    = 0;  // inputs already in the results file(s)
    int                       judged_now = 0;  // inputs judged by this call
    bool                      dropped_torn_line = false;
    std::string               results_path;
    std::string               greedy_path;
    std::string               report_path;
    std::string               plot_path;
};

// Results go to out_dir/results.jsonl (and greedy.jsonl); out_dir/run.json records the settings a
// resumed run must match. Inputs need unique ids (an empty id becomes "#<index>"). A prompt that
// does not fit the context (Errc::context_overflow) or an input the pipeline rejects
// (Errc::invalid_argument) is recorded as skipped; any other engine failure stops the run after
// saving what finished, and rerunning the same command continues from there.
Result<EvalOutcome> run_eval(Engine & engine, const std::vector<Sample> & samples, const EvalParams & params,
                             const std::string & out_dir, MetaScorer * meta = nullptr);

// Judges every input of `samples` not yet in `file`, `batch` inputs per engine call, appending
// each batch's records (skipped inputs included, as run_eval describes) before the next; `what`
// names the pass in log lines and errors. progress(done, todo) after each batch, if given.
Status judge_into(Engine & engine, const std::vector<Sample> & samples, const JudgeParams & jp, int batch,
                  MetaScorer * meta, ResultsFile & file, const std::string & what,
                  const std::function<void(const std::string &)> & log, int & judged_now,
                  const std::function<void(long, long)> & progress = {});

// Rewrites report.md and accuracy_vs_k.svg from the results files in out_dir.
Result<EvalOutcome> report_eval(const EvalParams & params, const std::string & out_dir);

}  // namespace grm
