// Rejective fine-tuning data assembly, its per-domain report, and the teacher's accuracy table.
#include "world/rft.h"

#include "core/atomic_file.h"
#include "core/prompt.h"
#include "core/vote.h"

#include <cstdio>

namespace grm::world {

void RftCounts::add(const RftCounts & o) {
    inputs += o.inputs;
    dropped += o.dropped;
    kept += o.kept;
    rejected += o.rejected;
    hinted_kept += o.hinted_kept;
    hinted_rejected += o.hinted_rejected;
    answers += o.answers;
}

namespace {

nlohmann::json trajectory_record(const WorldItem & item, const std::vector<int> & order, const TeacherOutput & t,
                                 const PromptTemplate & tmpl, const char * kind, bool correct) {
    nlohmann::json j;
    j["prompt"]     = render_prompt(tmpl, item.sample, order);
    j["completion"] = t.text;
    j["kind"]       = kind;
    j["id"]         = item.sample.id;
    j["domain"]     = item.sample.domain;
    j["level"]      = item.sample.level;
    j["n"]          = item.sample.n();
    j["order"]      = order;
    j["scores"]     = t.scores;
    j["correct"]    = correct;
    j["mistake"]    = t.mistake_kind;
    if (t.shortcut) j["shortcut"] = true;
    return j;
}

}  // namespace

RftReport build_rft(const RftParams & p, std::vector<nlohmann::json> & records) {
    RftReport              rep;
    const PromptTemplate   tmpl  = default_template(p.teacher.principles);
    std::vector<WorldItem> items = generate(p.gen, p.style);
    for (size_t idx = 0; idx < items.size(); idx++) {
        const WorldItem & item = items[idx];
        const Sample &    s    = item.sample;
        RftCounts &       c    = rep.by_domain[s.domain];
        c.inputs++;
        const uint64_t base = derive_seed(p.gen.seed ^ 0x5246545f44415441ull, hash_str(s.id));

        std::vector<nlohmann::json> good;
        int                         n_right = 0;
        for (int k = 0; k < p.samples; k++) {
            const std::vector<int> order = shuffle_order(s.n(), derive_seed(base, 2 * k));
            const TeacherOutput    t     = teach(item, order, derive_seed(base, 2 * k + 1), p.teacher);
            const bool             ok    = is_correct(t.scores, s);
            if (ok) {
                n_right++;
                good.push_back(trajectory_record(item, order, t, tmpl, "rft", true));
            }
        }
        if (n_right == p.samples) {
            c.dropped++;
        } else {
            c.kept += n_right;
            c.rejected += p.samples - n_right;
            for (auto & g : good) records.push_back(std::move(g));
            if (p.hinted && s.n() >= 2 && s.best) {
                TeacherParams          hp    = p.teacher;
                hp.hint_best                 = *s.best;
                const std::vector<int> order = shuffle_order(s.n(), derive_seed(base, 1001));
                const TeacherOutput    t     = teach(item, order, derive_seed(base, 1002), hp);
                if (is_correct(t.scores, s)) {
                    c.hinted_kept++;
                    records.push_back(trajectory_record(item, order, t, tmpl, "rft_hinted", true));
                } else {
                    c.hinted_rejected++;
                }
            }
        }
        // Plain answers for every input, dropped ones included: answering is a skill of its own.
        Rng        arng(derive_seed(base, 2002));
        const long want = (long) (p.answers * (double) (idx + 1)) - (long) (p.answers * (double) idx);
        for (long a = 0; a < want; a++) {
            nlohmann::json j;
            j["prompt"]     = s.query();
            j["completion"] = correct_reply(item.task, arng).text;
            j["kind"]       = "answer";
            j["id"]         = s.id;
            j["domain"]     = s.domain;
            j["level"]      = s.level;
            records.push_back(std::move(j));
            c.answers++;
        }
    }
    for (const auto & [d, c] : rep.by_domain) rep.total.add(c);
    return rep;
}

Status write_jsonl(const std::string & path, const std::vector<nlohmann::json> & lines) {
    return write_file_atomic(path, [&](std::ostream & out) {
        for (const auto & j : lines) out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict) << '\n';
    });
}

Result<RftReport> write_rft(const RftParams & p, const std::string & path) {
    std::vector<nlohmann::json> records;
    RftReport                   rep = build_rft(p, records);
    if (auto st = write_jsonl(path, records); !st) return st.error();
    return rep;
}

std::string RftReport::markdown(const RftParams & p) const {
    char        buf[256];
    std::string out = "# RFT data (SPCT stage 1)\n\n";
    std::snprintf(buf, sizeof buf,
                  "inputs: %d (split %s, seed %llu), N_RFT = %d, hinted = %s, fallibility = %.3f, principles = %s, answers per input = %.2f\n\n",
                  p.gen.count, split_name(p.gen.split), (unsigned long long) p.gen.seed, p.samples, p.hinted ? "yes" : "no",
                  p.teacher.fallibility, p.teacher.principles ? "yes" : "no", p.answers);
    out += buf;
    out += "| domain | inputs | dropped (all right) | kept | rejected | hinted kept | hinted rejected | answers |\n";
    out += "|---|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string & name, const RftCounts & c) {
        std::snprintf(buf, sizeof buf, "| %s | %ld | %ld | %ld | %ld | %ld | %ld | %ld |\n", name.c_str(), c.inputs, c.dropped, c.kept,
                      c.rejected, c.hinted_kept, c.hinted_rejected, c.answers);
        out += buf;
    };
    for (const auto & [d, c] : by_domain) row(d, c);
    row("**all**", total);
    return out;
}

TeacherEval evaluate_teacher(const std::vector<WorldItem> & items, const TeacherParams & p, uint64_t seed, int samples_per_item) {
    TeacherEval ev;
    for (const auto & item : items) {
        const Sample & s = item.sample;
        for (int k = 0; k < samples_per_item; k++) {
            const uint64_t         base  = derive_seed(seed, hash_str(s.id) + (uint64_t) k * 0x9e37ull);
            const std::vector<int> order = shuffle_order(s.n(), derive_seed(base, 1));
            const TeacherOutput    t     = teach(item, order, derive_seed(base, 2), p);
            TeacherEvalCell &      c     = ev.cells[s.domain][s.level];
            c.samples++;
            c.correct += is_correct(t.scores, s) ? 1 : 0;
            c.mistakes += t.mistake ? 1 : 0;
        }
    }
    for (const auto & [d, lv] : ev.cells) {
        for (const auto & [l, c] : lv) {
            ev.total.samples += c.samples;
            ev.total.correct += c.correct;
            ev.total.mistakes += c.mistakes;
        }
    }
    return ev;
}

std::string TeacherEval::markdown() const {
    char        buf[256];
    std::string out = "| domain | level 1 | level 2 | level 3 | all |\n|---|---|---|---|---|\n";
    auto        pct = [](const TeacherEvalCell & c) {
        char b[64];
        if (c.samples == 0) return std::string("-");
        std::snprintf(b, sizeof b, "%.1f%% (%ld)", 100.0 * (double) c.correct / (double) c.samples, c.samples);
        return std::string(b);
    };
    std::map<int, TeacherEvalCell> by_level;
    for (const auto & [d, lv] : cells) {
        TeacherEvalCell all;
        std::string     row = "| " + d + " |";
        for (int l = 1; l <= 3; l++) {
            auto it = lv.find(l);
            TeacherEvalCell c = it == lv.end() ? TeacherEvalCell{} : it->second;
            row += " " + pct(c) + " |";
            all.samples += c.samples;
            all.correct += c.correct;
            by_level[l].samples += c.samples;
            by_level[l].correct += c.correct;
        }
        out += row + " " + pct(all) + " |\n";
    }
    out += "| **all** |";
    for (int l = 1; l <= 3; l++) out += " " + pct(by_level[l]) + " |";
    out += " " + pct(total) + " |\n";
    std::snprintf(buf, sizeof buf, "\ntrajectories with a mistake: %.1f%% of %ld\n",
                  total.samples ? 100.0 * (double) total.mistakes / (double) total.samples : 0.0, total.samples);
    return out + buf;
}

}  // namespace grm::world
