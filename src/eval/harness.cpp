// The resumable evaluation loop.
#include "eval/harness.h"
#include "core/atomic_file.h"

#include "eval/report.h"
#include "eval/results.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace grm {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

json settings_json(const EvalParams & p, int K, bool meta) {
    const SamplingParams & s = p.judge.sampling;
    json j;
    j["samples_per_input"] = K;
    j["temperature"]       = s.temperature;
    j["top_p"]             = s.top_p;
    j["top_k"]             = s.top_k;
    j["max_tokens"]        = s.max_tokens;
    j["seed"]              = p.seed;
    j["shuffle"]           = p.judge.shuffle;
    j["meta"]              = meta;
    return j;
}

// A resumed run must produce the same kind of samples as the first part, or the voting@k numbers
// would mix two experiments.
Status check_settings(const std::string & path, const json & want, const std::string & model) {
    std::ifstream in(path);
    if (in) {
        json have = json::parse(in, nullptr, false);
        if (have.is_discarded() || !have.contains("settings")) {
            return make_error(Errc::invalid_argument, path + " is not a run description");
        }
        for (auto it = want.begin(); it != want.end(); ++it) {
            if (have["settings"].value(it.key(), json()) != it.value()) {
                return make_error(Errc::invalid_argument,
                                  "the results in " + fs::path(path).parent_path().string() + " were made with " + it.key() +
                                      " = " + have["settings"].value(it.key(), json()).dump() + ", this run asks for " +
                                      it.value().dump() + "; use another --out directory");
            }
        }
        return ok_status();
    }
    json j;
    j["settings"] = want;
    j["model"]    = model;
    return write_text_atomic(path, j.dump(2) + "\n");
}


Result<std::vector<Sample>> with_ids(const std::vector<Sample> & samples) {
    std::vector<Sample>   out = samples;
    std::set<std::string> seen;
    for (size_t i = 0; i < out.size(); i++) {
        if (out[i].id.empty()) out[i].id = "#" + std::to_string(i);
        if (!seen.insert(out[i].id).second) {
            return make_error(Errc::invalid_argument, "input id '" + out[i].id + "' occurs more than once; ids must be unique");
        }
    }
    return out;
}

// The model, sampling settings and seed a results folder was made with (its run.json), so a report
// rewritten later describes that run, not the flags of the rewrite. No run.json: params as given.
EvalParams with_run_settings(EvalParams p, const std::string & out_dir) {
    std::ifstream in(fs::path(out_dir) / "run.json");
    json          run = in ? json::parse(in, nullptr, false) : json();
    if (run.is_discarded() || !run.contains("settings")) return p;
    const json &     s  = run["settings"];
    SamplingParams & sp = p.judge.sampling;
    sp.temperature      = s.value("temperature", sp.temperature);
    sp.top_p            = s.value("top_p", sp.top_p);
    sp.top_k            = s.value("top_k", sp.top_k);
    sp.max_tokens       = s.value("max_tokens", sp.max_tokens);
    p.seed              = s.value("seed", p.seed);
    p.model             = run.value("model", p.model);
    return p;
}

}  // namespace

Status judge_into(Engine & engine, const std::vector<Sample> & samples, const JudgeParams & jp, int batch,
                  MetaScorer * meta, ResultsFile & file, const std::string & what,
                  const std::function<void(const std::string &)> & log, int & judged_now,
                  const std::function<void(long, long)> & progress) {
    std::vector<const Sample *> todo;
    for (const Sample & s : samples) {
        if (!file.done(s.id)) todo.push_back(&s);
    }
    if (log && !todo.empty()) {
        log(what + ": " + std::to_string(samples.size() - todo.size()) + " inputs already done, " +
            std::to_string(todo.size()) + " to judge (k = " + std::to_string(jp.k) + ")");
    }
    for (size_t start = 0; start < todo.size(); start += (size_t) batch) {
        std::vector<Sample> chunk;
        for (size_t i = start; i < std::min(todo.size(), start + (size_t) batch); i++) chunk.push_back(*todo[i]);
        std::vector<Result<Judgment>> results = judge_batch(engine, chunk, jp, meta);
        std::vector<EvalRecord>       records;
        std::optional<Error>          stop;
        for (size_t i = 0; i < chunk.size(); i++) {
            if (results[i]) {
                records.push_back(record_from_judgment(chunk[i], results[i].value()));
                continue;
            }
            const Error & e = results[i].error();
            if (e.code == Errc::context_overflow || e.code == Errc::invalid_argument) {
                EvalRecord r;
                r.truth   = truth_of(chunk[i]);
                r.skipped = e.to_string();
                records.push_back(std::move(r));
            } else if (!stop) {
                stop = make_error(e.code, what + ": input '" + chunk[i].id + "': " + e.message);
            }
        }
        if (auto st = file.append(records); !st) return st.error();
        judged_now += (int) records.size();
        if (stop) return *stop;
        if (log) {
            log(what + ": " + std::to_string(file.records().size()) + "/" + std::to_string(samples.size()) + " done");
        }
        if (progress) progress((long) std::min(todo.size(), start + (size_t) batch), (long) todo.size());
    }
    return ok_status();
}

Result<EvalOutcome> report_eval(const EvalParams & given, const std::string & out_dir) {
    const EvalParams params = with_run_settings(given, out_dir);
    EvalOutcome o;
    o.results_path = (fs::path(out_dir) / "results.jsonl").string();
    o.greedy_path  = (fs::path(out_dir) / "greedy.jsonl").string();
    auto sampled   = read_results(o.results_path);
    if (!sampled) return sampled.error();
    std::optional<std::vector<EvalRecord>> greedy;
    if (fs::exists(o.greedy_path)) {
        auto g = read_results(o.greedy_path);
        if (!g) return g.error();
        greedy = std::move(g.value());
    }
    int k_meta = params.judge.k_meta;
    o.sampled  = summarize(*sampled, params.ks, params.seed, k_meta);
    if (greedy) o.greedy = summarize(*greedy, { 1 }, params.seed, 0);

    ReportInputs in;
    in.params  = &params;
    in.sampled = &o.sampled;
    in.greedy  = o.greedy ? &*o.greedy : nullptr;
    in.sampled_records = &*sampled;
    in.greedy_records  = greedy ? &*greedy : nullptr;
    o.report_path = (fs::path(out_dir) / "report.md").string();
    o.plot_path   = (fs::path(out_dir) / "accuracy_vs_k.svg").string();
    if (auto st = write_report(in, o.report_path, o.plot_path); !st) return st.error();
    return o;
}

Result<EvalOutcome> run_eval(Engine & engine, const std::vector<Sample> & input, const EvalParams & params,
                             const std::string & out_dir, MetaScorer * meta) {
    if (params.ks.empty()) return make_error(Errc::invalid_argument, "no k given");
    for (int k : params.ks) {
        if (k < 1) return make_error(Errc::invalid_argument, "k must be >= 1, got " + std::to_string(k));
    }
    if (params.batch < 1) return make_error(Errc::invalid_argument, "batch must be >= 1");
    auto samples = with_ids(input);
    if (!samples) return samples.error();

    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) return make_error(Errc::io, "cannot create " + out_dir + ": " + ec.message());

    const int K = *std::max_element(params.ks.begin(), params.ks.end());
    if (auto st = check_settings((fs::path(out_dir) / "run.json").string(), settings_json(params, K, meta != nullptr),
                                 params.model);
        !st) {
        return st.error();
    }

    EvalOutcome o;
    o.results_path = (fs::path(out_dir) / "results.jsonl").string();
    o.greedy_path  = (fs::path(out_dir) / "greedy.jsonl").string();

    auto file = ResultsFile::open(o.results_path);
    if (!file) return file.error();
    o.resumed           = (int) (*file)->records().size();
    o.dropped_torn_line = (*file)->dropped_torn_line();
    if (o.dropped_torn_line && params.log) params.log("dropped a torn last line in " + o.results_path);

    JudgeParams jp = params.judge;
    jp.k           = K;
    jp.seed        = params.seed;
    if (auto st = judge_into(engine, *samples, jp, params.batch, meta, **file, "sampled", params.log, o.judged_now);
        !st) {
        return st.error();
    }

    if (params.greedy) {
        auto gfile = ResultsFile::open(o.greedy_path);
        if (!gfile) return gfile.error();
        o.resumed += (int) (*gfile)->records().size();
        o.dropped_torn_line = o.dropped_torn_line || (*gfile)->dropped_torn_line();
        JudgeParams g                = params.judge;
        g.k                          = 1;
        g.seed                       = params.seed;
        g.sampling.temperature       = 0.0f;
        if (auto st = judge_into(engine, *samples, g, params.batch, nullptr, **gfile, "greedy", params.log, o.judged_now);
            !st) {
            return st.error();
        }
    }

    auto rep = report_eval(params, out_dir);
    if (!rep) return rep.error();
    rep->resumed           = o.resumed;
    rep->judged_now        = o.judged_now;
    rep->dropped_torn_line = o.dropped_torn_line;
    return rep;
}

}  // namespace grm
