// Rejective fine-tuning data from any engine: sample (resumable), reject, drop, hint, mix, report.
#include "data/rft.h"

#include "core/atomic_file.h"
#include "core/prompt.h"
#include "core/seed.h"
#include "core/vote.h"
#include "eval/harness.h"
#include "eval/results.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

namespace grm::data {

namespace fs = std::filesystem;
using json   = nlohmann::json;

void RftCounts::add(const RftCounts & o) {
    inputs += o.inputs;
    dropped += o.dropped;
    skipped += o.skipped;
    kept += o.kept;
    rejected += o.rejected;
    hinted_kept += o.hinted_kept;
    hinted_rejected += o.hinted_rejected;
    general += o.general;
}

std::string RftReport::markdown(const RftParams & p) const {
    std::ostringstream o;
    o << "# RFT data (SPCT stage 1)\n\n"
      << "k = " << p.judge.k << " trajectories per input, seed " << p.judge.seed << ", temperature "
      << p.judge.sampling.temperature << (p.hinted ? ", one hinted trajectory per input" : ", no hinting")
      << (p.judge.binary_single ? ", single responses judged 0/1" : "")
      << ". Inputs whose k trajectories are all correct are dropped (too easy); of the rest, correct trajectories are kept and wrong or unscorable ones rejected.\n\n"
      << "| source | inputs | dropped (all right) | skipped (context) | kept | rejected | hinted kept | hinted rejected |\n"
      << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
    auto row = [&](const std::string & name, const RftCounts & c) {
        o << "| " << name << " | " << c.inputs << " | " << c.dropped << " | " << c.skipped << " | " << c.kept << " | "
          << c.rejected << " | " << c.hinted_kept << " | " << c.hinted_rejected << " |\n";
    };
    for (const auto & [source, c] : by_source) row(source.empty() ? "(none)" : source, c);
    row("**total**", total);
    if (total.general > 0) o << "\nGeneral instruction rows mixed in: " << total.general << " (ratio " << p.mix_ratio << ").\n";
    return o.str();
}

Status check_rft_inputs(const std::vector<Sample> & inputs, bool binary) {
    std::set<std::string> ids;
    for (size_t i = 0; i < inputs.size(); i++) {
        const Sample &    s     = inputs[i];
        const std::string where = "input " + std::to_string(i) + " ('" + s.id + "')";
        if (s.id.empty()) return make_error(Errc::invalid_argument, "input " + std::to_string(i) + ": no id (resuming needs one per input)");
        if (!ids.insert(s.id).second) return make_error(Errc::invalid_argument, where + ": the id occurs twice");
        if (s.n() >= 2 && !s.best) return make_error(Errc::invalid_argument, where + ": no 'best' (the rule for n >= 2 needs it)");
        if (s.n() == 1 && binary && !s.label) {
            return make_error(Errc::invalid_argument, where + ": one response without 'label' (a 0/1 judgment is checked against it)");
        }
        if (s.n() == 1 && !binary && s.ratings.empty()) {
            return make_error(Errc::invalid_argument,
                              where + ": one response without 'ratings' (the rule for n = 1 compares the score with it; "
                                      "for a 0/1 label judge with the 0/1 variant, --binary-single)");
        }
    }
    return ok_status();
}

namespace {

// The settings a resumed run must share with the run that wrote DIR.
json settings_of(const RftParams & p) {
    json j = { { "k", p.judge.k },
               { "seed", p.judge.seed },
               { "temperature", p.judge.sampling.temperature },
               { "top_p", p.judge.sampling.top_p },
               { "max_tokens", p.judge.sampling.max_tokens },
               { "hinted", p.hinted },
               { "prompt", p.judge.prompt.multi + p.judge.prompt.single + p.judge.prompt.block + p.judge.prompt.hint } };
    // only when set, so that folders written before the 0/1 variant existed still resume
    if (p.judge.binary_single) j["binary_single"] = p.judge.prompt.binary;
    return j;
}

Status check_settings(const std::string & path, const json & want) {
    if (!fs::exists(path)) return write_text_atomic(path, want.dump(2) + "\n");
    std::ifstream in(path);
    json          have = json::parse(in, nullptr, false);
    if (have.is_discarded()) return make_error(Errc::invalid_argument, path + ": malformed JSON");
    for (const auto & [key, value] : want.items()) {
        if (!have.contains(key) || have[key] != value) {
            return make_error(Errc::invalid_argument, path + ": this folder was sampled with " + key + " = " +
                                                          (have.contains(key) ? have[key].dump() : "nothing") + ", not " + value.dump() +
                                                          " (use another --out, or the same settings to resume)");
        }
    }
    return ok_status();
}

json record_line(const Sample & s, const TrajectoryRecord & t, const JudgeParams & jp, const char * kind) {
    // never the hint: the trained model never sees one
    const std::string prompt = render_prompt(jp.prompt, s, t.order, std::nullopt, jp.binary_single);
    return { { "prompt", prompt },
             { "completion", t.text },
             { "messages", { { { "role", "user" }, { "content", prompt } }, { { "role", "assistant" }, { "content", t.text } } } },
             { "kind", kind },
             { "id", s.id },
             { "source", s.source },
             { "n", s.n() },
             { "order", t.order },
             { "scores", t.scores } };
}

bool correct(const TrajectoryRecord & t, const Sample & s, bool binary) { return !t.scores.empty() && is_correct(t.scores, s, binary); }

// General instruction rows: {"prompt", "completion"} or {"messages": [user, assistant]}.
Result<std::vector<json>> read_general(const std::string & path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open --mix file '" + path + "'");
    std::vector<json> rows;
    int               lineno = 0;
    for (std::string line; std::getline(in, line);) {
        lineno++;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = path + ":" + std::to_string(lineno);
        json              j     = json::parse(line, nullptr, false);
        std::string       prompt, completion;
        if (j.is_object() && j.contains("prompt") && j["prompt"].is_string() && j.contains("completion") && j["completion"].is_string()) {
            prompt     = j["prompt"];
            completion = j["completion"];
        } else if (j.is_object() && j.contains("messages") && j["messages"].is_array() && j["messages"].size() == 2 &&
                   j["messages"][0].value("role", "") == "user" && j["messages"][1].value("role", "") == "assistant" &&
                   j["messages"][0]["content"].is_string() && j["messages"][1]["content"].is_string()) {
            prompt     = j["messages"][0]["content"];
            completion = j["messages"][1]["content"];
        } else {
            return make_error(Errc::invalid_argument, where + ": expected {\"prompt\", \"completion\"} strings or "
                                                              "{\"messages\": [user, assistant]}");
        }
        rows.push_back({ { "prompt", prompt },
                         { "completion", completion },
                         { "messages", { { { "role", "user" }, { "content", prompt } }, { { "role", "assistant" }, { "content", completion } } } },
                         { "kind", "general" } });
    }
    return rows;
}

}  // namespace

Result<RftReport> run_rft(Engine & engine, const std::vector<Sample> & inputs, const RftParams & p, const std::string & dir) {
    if (auto st = check_rft_inputs(inputs, p.judge.binary_single); !st) return st.error();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return make_error(Errc::io, "cannot create '" + dir + "': " + ec.message());
    if (auto st = check_settings(dir + "/run.json", settings_of(p)); !st) return st.error();

    // Pass 1: k trajectories per input.
    auto file = ResultsFile::open(dir + "/results.jsonl");
    if (!file) return file.error();
    int judged = 0;
    if (auto st = judge_into(engine, inputs, p.judge, p.batch, nullptr, **file, "rft", p.log, judged, p.progress); !st) return st.error();

    // Pass 2: one hinted trajectory per input (its own id, so its own seed streams). The hint is one
    // value per engine call: inputs are grouped by their best index (0 for one response, whose
    // hint states its label).
    auto hfile = ResultsFile::open(dir + "/hinted.jsonl");
    if (!hfile) return hfile.error();
    if (p.hinted) {
        std::map<int, std::vector<Sample>> by_best;
        for (const Sample & s : inputs) {
            if (s.n() < 2 && !p.judge.binary_single) continue;
            Sample h = s;
            h.id += "#hint";
            by_best[s.n() < 2 ? 0 : *s.best].push_back(std::move(h));
        }
        for (auto & [best, group] : by_best) {
            JudgeParams hp = p.judge;
            hp.k           = 1;
            hp.hint_best   = best;
            if (auto st = judge_into(engine, group, hp, p.batch, nullptr, **hfile, "hinted", p.log, judged, p.progress); !st) {
                return st.error();
            }
        }
    }

    // Reject, drop, keep: in input order, so the output does not depend on how the run was split.
    std::map<std::string, const EvalRecord *> sampled, hinted;
    for (const EvalRecord & r : (*file)->records()) sampled[r.truth.id] = &r;
    for (const EvalRecord & r : (*hfile)->records()) hinted[r.truth.id] = &r;
    RftReport         report;
    std::vector<json> lines;
    for (const Sample & s : inputs) {
        RftCounts &        c = report.by_source[s.source];
        const EvalRecord * r = sampled.at(s.id);
        c.inputs++;
        if (!r->skipped.empty()) {
            c.skipped++;
            continue;
        }
        const bool all_right = std::all_of(r->trajectories.begin(), r->trajectories.end(),
                                           [&](const TrajectoryRecord & t) { return correct(t, s, p.judge.binary_single); });
        if (all_right) {
            c.dropped++;
            continue;
        }
        for (const TrajectoryRecord & t : r->trajectories) {
            if (correct(t, s, p.judge.binary_single)) {
                c.kept++;
                lines.push_back(record_line(s, t, p.judge, "rft"));
            } else {
                c.rejected++;
            }
        }
        auto h = hinted.find(s.id + "#hint");
        if (h != hinted.end() && h->second->skipped.empty() && !h->second->trajectories.empty()) {
            const TrajectoryRecord & t = h->second->trajectories[0];
            if (correct(t, s, p.judge.binary_single)) {
                c.hinted_kept++;
                lines.push_back(record_line(s, t, p.judge, "rft_hinted"));
            } else {
                c.hinted_rejected++;
            }
        }
    }
    for (const auto & [source, c] : report.by_source) report.total.add(c);

    if (!p.mix_path.empty() && p.mix_ratio > 0) {
        auto general = read_general(p.mix_path);
        if (!general) return general.error();
        const long          want = std::lround(p.mix_ratio * double(report.total.kept + report.total.hinted_kept));
        std::vector<size_t> pick(general->size());
        std::iota(pick.begin(), pick.end(), size_t(0));
        std::mt19937_64 rng(stream_seed(p.judge.seed, Stream::rft_mix));
        std::shuffle(pick.begin(), pick.end(), rng);
        for (long i = 0; i < want && !general->empty(); i++) lines.push_back((*general)[pick[size_t(i) % pick.size()]]);
        report.total.general = general->empty() ? 0 : want;
    }

    if (auto st = write_file_atomic(dir + "/rft.jsonl", [&](std::ostream & out) {
            for (const json & l : lines) out << l.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
        });
        !st) {
        return st.error();
    }
    if (auto st = write_text_atomic(dir + "/report.md", report.markdown(p)); !st) return st.error();
    return report;
}

}  // namespace grm::data
