// SPCT stage 1 with any engine as the policy: rejective fine-tuning data from the model being
// trained (a GGUF in-process or OpenAI-compatible servers), on any samples with ground truth.
//
// Per input: k sampled trajectories (seeded, each with its own shuffle), each kept if correct by
// the rule (Eq. 10) and rejected otherwise; an input whose k trajectories are all correct is dropped
// (too easy: nothing to learn). With hinting, one more trajectory per input is sampled with the
// answer in the prompt (the best response for n >= 2; the 0/1 label for one response judged 0/1,
// JudgeParams::binary_single) and kept only if correct, stored with the unhinted prompt (the
// trained model never sees a hint). General instruction data can be mixed in at a ratio.
//
// Resumable: every trajectory goes to DIR/results.jsonl (eval::ResultsFile: whole lines, fsync per
// batch) and the hinted ones to DIR/hinted.jsonl; rerunning continues where a kill stopped it.
// DIR/rft.jsonl and DIR/report.md are written whole at the end from those files.
#pragma once

#include "core/engine.h"
#include "core/error.h"
#include "core/judge.h"
#include "core/sample.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace grm::data {

struct RftParams {
    JudgeParams judge;           // judge.k = N_RFT trajectories per input; judge.seed, sampling, prompt
    bool        hinted = true;   // one hinted trajectory per input (n >= 2, or one response judged 0/1)
    int         batch  = 4;      // inputs per engine call
    // General instruction data ({"prompt", "completion"} or {"messages"} lines), mixed in at
    // mix_ratio rows per kept trajectory (seeded choice, without repetition while rows last).
    std::string mix_path;
    double      mix_ratio = 0.0;

    std::function<void(const std::string &)> log;       // progress lines; may be empty
    std::function<void(long, long)>          progress;  // (done, todo) inputs of the current pass
};

struct RftCounts {
    long inputs = 0, dropped = 0, skipped = 0;  // skipped: the prompt did not fit (context overflow)
    long kept = 0, rejected = 0;                // trajectories of the inputs not dropped
    long hinted_kept = 0, hinted_rejected = 0;
    long general = 0;                           // mixed-in instruction rows (total only)
    void add(const RftCounts & o);
};

struct RftReport {
    std::map<std::string, RftCounts> by_source;
    RftCounts                        total;
    std::string                      markdown(const RftParams & p) const;
};

// Every input needs the ground truth the rule reads (best for n >= 2; for n = 1 ratings, or label
// when binary) and a unique id; an input without is an error naming it, before any sampling.
Status check_rft_inputs(const std::vector<Sample> & inputs, bool binary);

// Samples what DIR does not hold yet, then writes DIR/rft.jsonl: one line per kept trajectory,
// {"prompt", "completion", "messages": [user, assistant], "kind": "rft" | "rft_hinted" | "general",
// "id", "source", "n", "order", "scores"}, and DIR/report.md.
Result<RftReport> run_rft(Engine & engine, const std::vector<Sample> & inputs, const RftParams & p, const std::string & dir);

}  // namespace grm::data
