// Meta RM data from any engine: sample (resumable), label by the rule, balance per source.
#include "data/meta_data.h"

#include "core/atomic_file.h"
#include "core/seed.h"
#include "core/vote.h"
#include "data/rft.h"
#include "eval/harness.h"
#include "eval/results.h"
#include "scaling/rm_text.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>

namespace grm::data {

using json = nlohmann::json;

Result<MetaDataReport> run_meta_data(Engine & engine, const std::vector<Sample> & inputs, const MetaDataParams & p,
                                     const std::string & dir) {
    if (auto st = check_rft_inputs(inputs, p.judge.binary_single); !st) return st.error();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(Errc::io, "cannot create '" + dir + "': " + ec.message());
    auto file = ResultsFile::open(dir + "/results.jsonl");
    if (!file) return file.error();
    int judged = 0;
    if (auto st = judge_into(engine, inputs, p.judge, p.batch, nullptr, **file, "meta data", p.log, judged, p.progress); !st) {
        return st.error();
    }

    std::map<std::string, const EvalRecord *> by_id;
    for (const EvalRecord & r : (*file)->records()) by_id[r.truth.id] = &r;
    MetaDataReport           report;
    std::vector<json>        lines;
    std::vector<std::string> sources;
    std::vector<bool>        correct;
    for (const Sample & s : inputs) {  // input order: the output does not depend on how the run was split
        const EvalRecord * r = by_id.at(s.id);
        if (!r->skipped.empty()) {
            report.skipped++;
            continue;
        }
        for (const TrajectoryRecord & t : r->trajectories) {
            const bool ok = !t.scores.empty() && is_correct(t.scores, s, p.judge.binary_single);
            lines.push_back({ { "text", scaling::meta_rm_text(s, t.order, t.text) },
                              { "label", ok ? 1 : 0 },
                              { "source", s.source },
                              { "id", s.id },
                              { "order", t.order },
                              { "trajectory", t.text } });
            sources.push_back(s.source);
            correct.push_back(ok);
        }
    }
    std::vector<bool> keep(lines.size(), true);
    if (p.balance) {
        report.sources = scaling::balance_by_source(sources, correct, stream_seed(p.judge.seed, Stream::meta_balance), keep);
    } else {
        std::vector<bool> unused;
        report.sources = scaling::balance_by_source(sources, correct, 0, unused);  // the counts only
        for (auto & b : report.sources) b.kept = b.correct + b.wrong;
    }
    auto st = write_file_atomic(dir + "/meta_data.jsonl", [&](std::ostream & out) {
        for (size_t i = 0; i < lines.size(); i++) {
            if (!keep[i]) continue;
            out << lines[i].dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
            report.lines++;
        }
    });
    if (!st) return st.error();
    return report;
}

}  // namespace grm::data
