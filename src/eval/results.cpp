// Evaluation records <-> JSON, and the crash-safe append-only results file.
#include "eval/results.h"

#include "core/parse.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace grm {

using json = nlohmann::json;

Truth truth_of(const Sample & s) {
    Truth t;
    t.id      = s.id;
    t.source  = s.source;
    t.domain  = s.domain;
    t.level   = s.level;
    t.style   = s.style;
    t.n       = s.n();
    t.ratings = s.ratings;
    t.best    = s.best;
    t.label   = s.label;
    return t;
}

std::string style_of(const Truth & t) { return t.style.empty() ? "standard" : t.style; }

EvalRecord record_from_judgment(const Sample & s, const Judgment & j) {
    EvalRecord r;
    r.truth = truth_of(s);
    for (const Trajectory & t : j.samples) {
        TrajectoryRecord tr;
        tr.order      = t.order;
        tr.text       = t.generation.text;
        tr.finish     = finish_reason_name(t.generation.finish);
        tr.scores     = t.parsed.ok() ? t.scores : std::vector<int>{};
        tr.reason     = unscorable_name(t.parsed.reason);
        tr.detail     = t.parsed.ok() ? "" : t.parsed.detail;
        if (t.generation.finish == FinishReason::error && !t.generation.error.empty()) {
            tr.detail = t.generation.error;
        }
        tr.meta_score = t.meta_score;
        r.trajectories.push_back(std::move(tr));
    }
    return r;
}

json record_to_json(const EvalRecord & r) {
    json j;
    j["id"]     = r.truth.id;
    j["source"] = r.truth.source;
    j["domain"] = r.truth.domain;
    j["level"]  = r.truth.level;
    if (!r.truth.style.empty()) j["style"] = r.truth.style;
    j["n"]      = r.truth.n;
    if (!r.truth.ratings.empty()) j["ratings"] = r.truth.ratings;
    j["best"]  = r.truth.best ? json(*r.truth.best) : json(nullptr);
    j["label"] = r.truth.label ? json(*r.truth.label) : json(nullptr);
    if (!r.skipped.empty()) j["skipped"] = r.skipped;
    json ts = json::array();
    for (const TrajectoryRecord & t : r.trajectories) {
        json o;
        o["order"]  = t.order;
        o["text"]   = t.text;
        o["finish"] = t.finish;
        o["scores"] = t.scores.empty() ? json(nullptr) : json(t.scores);
        o["reason"] = t.reason;
        if (!t.detail.empty()) o["detail"] = t.detail;
        o["meta"] = t.meta_score ? json(*t.meta_score) : json(nullptr);
        ts.push_back(std::move(o));
    }
    j["samples"] = std::move(ts);
    return j;
}

Result<EvalRecord> record_from_json(const json & j) {
    try {
        EvalRecord r;
        r.truth.id     = j.at("id").get<std::string>();
        r.truth.source = j.value("source", "");
        r.truth.domain = j.value("domain", "");
        r.truth.level  = j.value("level", 0);
        r.truth.style  = j.value("style", "");
        r.truth.n      = j.at("n").get<int>();
        if (j.contains("ratings")) r.truth.ratings = j["ratings"].get<std::vector<int>>();
        if (j.contains("best") && !j["best"].is_null()) r.truth.best = j["best"].get<int>();
        if (j.contains("label") && !j["label"].is_null()) r.truth.label = j["label"].get<int>();
        r.skipped = j.value("skipped", "");
        for (const json & o : j.at("samples")) {
            TrajectoryRecord t;
            t.order  = o.at("order").get<std::vector<int>>();
            t.text   = o.at("text").get<std::string>();
            t.finish = o.value("finish", "stop");
            if (!o.at("scores").is_null()) t.scores = o["scores"].get<std::vector<int>>();
            t.reason = o.at("reason").get<std::string>();
            t.detail = o.value("detail", "");
            if (o.contains("meta") && !o["meta"].is_null()) t.meta_score = o["meta"].get<double>();
            if (t.reason == "none" && (int) t.scores.size() != r.truth.n) {
                return make_error(Errc::invalid_argument, "record '" + r.truth.id + "': scored sample has " +
                                                              std::to_string(t.scores.size()) + " scores for n=" +
                                                              std::to_string(r.truth.n));
            }
            r.trajectories.push_back(std::move(t));
        }
        return r;
    } catch (const json::exception & e) {
        return make_error(Errc::invalid_argument, std::string("bad result record: ") + e.what());
    }
}

namespace {

Unscorable unscorable_from_name(const std::string & name) {
    for (Unscorable u : { Unscorable::none, Unscorable::engine_error, Unscorable::truncated, Unscorable::no_box,
                          Unscorable::not_integer, Unscorable::wrong_count, Unscorable::out_of_range }) {
        if (name == unscorable_name(u)) return u;
    }
    return Unscorable::engine_error;
}

Result<std::string> slurp(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::io, "cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A results file as read: its records, how many leading bytes hold them, and whether a damaged last
// line was left out. The writer only ever appends whole lines, so only the very last line can be
// damaged by a kill: cut short (no '\n'), or zero-filled by a crash between write and fsync.
struct Loaded {
    std::vector<EvalRecord> records;
    size_t                  keep_bytes = 0;
    bool                    torn       = false;
};

Result<Loaded> load(const std::string & path) {
    auto content = slurp(path);
    if (!content) return content.error();
    Loaded out;
    size_t start = 0;
    for (size_t line_no = 1; start < content->size(); line_no++) {
        size_t nl = content->find('\n', start);
        if (nl == std::string::npos) {
            out.torn = true;
            break;
        }
        const std::string line = content->substr(start, nl - start);
        const bool        last = content->find('\n', nl + 1) == std::string::npos;  // last whole line
        if (!line.empty()) {
            json j = json::parse(line, nullptr, false);
            Result<EvalRecord> rec = j.is_discarded() ? Result<EvalRecord>(make_error(Errc::invalid_argument, "not valid JSON"))
                                                      : record_from_json(j);
            if (!rec && last) {
                out.torn = true;
                break;
            }
            if (!rec) return make_error(Errc::invalid_argument, path + ":" + std::to_string(line_no) + ": " + rec.error().message);
            out.records.push_back(std::move(rec.value()));
        }
        start          = nl + 1;
        out.keep_bytes = start;
    }
    return out;
}

}  // namespace

Judgment judgment_of(const EvalRecord & r) {
    Judgment j;
    for (const TrajectoryRecord & tr : r.trajectories) {
        Trajectory t;
        t.order             = tr.order;
        t.generation.text   = tr.text;
        t.parsed.reason     = unscorable_from_name(tr.reason);
        t.parsed.detail     = tr.detail;
        t.scores            = tr.scores;
        if (t.parsed.ok()) {
            // parsed.scores are in shown order: order[p] is the original index at position p
            t.parsed.scores.resize(tr.scores.size());
            for (size_t p = 0; p < tr.order.size() && p < tr.scores.size(); p++) t.parsed.scores[p] = tr.scores[tr.order[p]];
        }
        t.meta_score = tr.meta_score;
        j.samples.push_back(std::move(t));
    }
    return j;
}

ResultsFile::~ResultsFile() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<ResultsFile>> ResultsFile::open(const std::string & path) {
    std::unique_ptr<ResultsFile> f(new ResultsFile());
    f->path_ = path;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
        auto loaded = load(path);
        if (!loaded) return loaded.error();
        f->dropped_torn_ = loaded->torn;
        if (loaded->torn) {
            if (::truncate(path.c_str(), (off_t) loaded->keep_bytes) != 0) {
                return make_error(Errc::io, "cannot truncate torn line in " + path + ": " + std::strerror(errno));
            }
        }
        for (EvalRecord & r : loaded->records) {
            if (!f->done_.insert(r.truth.id).second) {
                return make_error(Errc::invalid_argument, path + ": id '" + r.truth.id + "' occurs twice");
            }
            f->records_.push_back(std::move(r));
        }
    }
    f->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (f->fd_ < 0) return make_error(Errc::io, "cannot open " + path + ": " + std::strerror(errno));
    return f;
}

Status ResultsFile::append(const std::vector<EvalRecord> & batch) {
    if (batch.empty()) return ok_status();
    std::string buf;
    for (const EvalRecord & r : batch) {
        if (done_.count(r.truth.id)) {
            return make_error(Errc::internal, "result for '" + r.truth.id + "' is already in " + path_);
        }
        buf += record_to_json(r).dump(-1, ' ', false, json::error_handler_t::replace);
        buf += '\n';
    }
    size_t off = 0;
    while (off < buf.size()) {
        ssize_t w = ::write(fd_, buf.data() + off, buf.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, "writing " + path_ + ": " + std::strerror(errno));
        }
        off += (size_t) w;
    }
    if (::fsync(fd_) != 0) return make_error(Errc::io, "fsync " + path_ + ": " + std::strerror(errno));
    for (const EvalRecord & r : batch) {
        done_.insert(r.truth.id);
        records_.push_back(r);
    }
    return ok_status();
}

Result<std::vector<EvalRecord>> read_results(const std::string & path) {
    auto loaded = load(path);
    if (!loaded) return loaded.error();
    return std::move(loaded->records);
}

}  // namespace grm
