// The meta RM's training data from any engine (a GGUF in-process or OpenAI-compatible servers) on
// any samples with ground truth: k judgments per input (seeded, each with its own shuffle), each
// labelled correct or not by the rule (Eq. 10; unscorable is not correct), balanced per source.
//
// Resumable like grm rft: trajectories go to DIR/results.jsonl (whole lines, fsync per batch);
// DIR/meta_data.jsonl is written whole at the end, one line per kept trajectory:
// {"text": scaling::meta_rm_text (what grm meta train reads), "label": 0|1, "source", "id",
// "order", "trajectory"} (the last two for a trainer with its own layout).
#pragma once

#include "core/engine.h"
#include "core/error.h"
#include "core/judge.h"
#include "core/sample.h"
#include "scaling/label_balance.h"

#include <functional>
#include <string>
#include <vector>

namespace grm::data {

struct MetaDataParams {
    JudgeParams judge;           // judge.k judgments per input; judge.seed also seeds the balancing
    int         batch   = 4;     // inputs per engine call
    bool        balance = true;  // per source, as many correct as wrong (scaling::balance_by_source)

    std::function<void(const std::string &)> log;       // progress lines; may be empty
    std::function<void(long, long)>          progress;  // (done, todo) inputs
};

struct MetaDataReport {
    std::vector<scaling::SourceBalance> sources;  // kept = all when not balancing
    long                                skipped = 0;  // inputs whose prompt did not fit
    long                                lines   = 0;
};

// Inputs need ids and the ground truth the rule reads (as check_rft_inputs).
Result<MetaDataReport> run_meta_data(Engine & engine, const std::vector<Sample> & inputs, const MetaDataParams & p,
                                     const std::string & dir);

}  // namespace grm::data
