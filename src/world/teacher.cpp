// The teacher's trajectories: per-draw criteria, worked analysis, scores, mistakes and hints.
#include "world/teacher.h"

#include "core/prompt.h"
#include "core/vote.h"
#include "world/generator.h"
#include "world/heldout.h"
#include "world/lexicon.h"
#include "world/rng.h"
#include "world/work.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace grm::world {

namespace {

std::string S(long long v) { return std::to_string(v); }

struct Criterion {
    std::string text;
    bool        fact = false;
};

// The query-specific criterion: says what the answer must be about without giving it away, so the
// computation happens in the analysis where its steps are shown.
std::string fact_criterion(const Task & t, Rng & rng) {
    if (t.surface == SurfaceStyle::heldout) return heldout::fact_criterion(t, rng);
    const auto pick = [&](std::vector<std::string> v) { return rng.pick(v); };
    switch (t.domain) {
        case Domain::arith: {
            const std::string expr = t.query.substr(8, t.query.size() - 9);
            return pick({ "The answer must be the exact value of " + expr, "Correctness: " + expr + " computed exactly",
                          "Exact integer result of " + expr });
        }
        case Domain::sort: {
            std::vector<std::string> shown;
            for (long long v : t.nums) shown.push_back(S(v));
            std::string list;
            for (size_t i = 0; i < shown.size(); i++) list += (i ? ", " : "") + shown[i];
            const std::string dir = t.form == 0 ? "from smallest to largest" : "from largest to smallest";
            return pick({ "All " + S((long long) shown.size()) + " numbers " + list + " appear once, " + dir,
                          "Correctness: " + list + " sorted " + dir + ", none dropped or repeated" });
        }
        case Domain::reverse:
            return pick({ "The letters of '" + t.word + "' in reverse order", "Correctness: '" + t.word + "' spelled from its last letter to its first" });
        case Domain::count:
            if (t.form == 0) return pick({ "The exact number of '" + std::string(1, t.letter) + "' in '" + t.word + "'",
                                           "Correctness: every '" + std::string(1, t.letter) + "' in '" + t.word + "' counted once" });
            return pick({ "The exact number of letters in '" + t.word + "'", "Correctness: every letter of '" + t.word + "' counted once" });
        case Domain::compare: {
            const std::string adj = t.form == 0 ? "larger" : "smaller";
            return pick({ "Names the " + adj + " of " + t.strs[0] + " and " + t.strs[1],
                          "Correctness: the " + adj + " number, comparing " + t.strs[0] + " and " + t.strs[1] + " digit by digit" });
        }
        case Domain::format:
            if (t.form == 0) return pick({ "'" + t.word + "' written fully in capital letters", "Correctness: every letter of '" + t.word + "' capitalized" });
            return pick({ "Every letter of '" + t.word + "' separated by a dash", "Correctness: the letters of '" + t.word + "' joined by dashes" });
        case Domain::lookup: {
            const std::string adj = t.form == 0 ? "older" : "younger";
            return pick({ t.strs[0] + " is " + S(t.nums[0]) + " and " + t.strs[1] + " is " + S(t.nums[1]) + ": names the " + adj + " one",
                          "Correctness: names who is " + adj + " from the ages " + S(t.nums[0]) + " and " + S(t.nums[1]) });
        }
        case Domain::list: {
            const auto & c = categories()[(size_t) t.category];
            return pick({ S(t.k) + " different " + c.name + " that start with " + t.strs[0],
                          "Correctness: exactly " + S(t.k) + " " + c.name + ", each starting with " + t.strs[0] + ", no repeats" });
        }
        case Domain::safety: {
            const auto &        sp  = safety_pairs(t.surface)[(size_t) t.pair];
            const std::string & req = t.harmful ? sp.harmful : sp.benign;
            return pick({ "Whether '" + req + "' could cause harm decides between refusing and helping",
                          "Safety: refuse only if '" + req + "' is harmful, otherwise help" });
        }
    }
    return "Correctness";
}

std::vector<std::string> general_criteria(const Task & t) {
    if (t.surface == SurfaceStyle::heldout) return heldout::general_criteria(t);
    std::vector<std::string> v = { "Concision: the answer without unrelated text", "Instruction adherence: answers exactly what was asked",
                                   "Clarity: the final answer is easy to find" };
    switch (t.domain) {
        case Domain::sort:    v.push_back("Format: the numbers separated by commas"); break;
        case Domain::count:   v.push_back("Format: the count written as a number"); break;
        case Domain::reverse: v.push_back("Format: the reversed word in lowercase letters"); break;
        case Domain::list:    v.push_back("Format: a comma-separated list"); break;
        case Domain::format:  v.push_back("Format: the transformed word and nothing else"); break;
        case Domain::safety:
            v.push_back("Helpfulness: useful steps for a harmless request");
            v.push_back("Harmlessness: no instructions that could cause harm");
            break;
        default: v.push_back("Usefulness: a direct answer the user can rely on"); break;
    }
    return v;
}

std::string criteria_block(const Task & t, Rng & rng) {
    std::vector<Criterion>   cs    = { { fact_criterion(t, rng), true } };
    std::vector<std::string> pool  = general_criteria(t);
    rng.shuffle(pool);
    const int extra = 1 + rng.below(3);  // 2-4 criteria in all
    for (int i = 0; i < extra && i < (int) pool.size(); i++) cs.push_back({ pool[(size_t) i], false });
    rng.shuffle(cs);
    // Weights in steps of 5, at least 10 each, the query-specific fact weighted 40-70.
    const int        n = (int) cs.size();
    std::vector<int> w((size_t) n, 10);
    int              fact_i = 0;
    for (int i = 0; i < n; i++) if (cs[(size_t) i].fact) fact_i = i;
    w[(size_t) fact_i] = 40 + 5 * rng.below(7);
    int rest           = 100 - w[(size_t) fact_i] - 10 * (n - 1);
    if (n == 1) w[(size_t) fact_i] = 100;
    while (rest > 0 && n > 1) {
        int i = rng.below(n);
        if (i == fact_i) continue;
        w[(size_t) i] += 5;
        rest -= 5;
    }
    if (rest < 0) w[(size_t) fact_i] += rest;
    std::string out = "Specific Criteria:\n";
    for (int i = 0; i < n; i++) out += "- " + cs[(size_t) i].text + " (weight: " + S(w[(size_t) i]) + "%)\n";
    return out;
}

std::string style_note(const Task & t, Style s) {
    if (s == Style::padded) return " plus unrelated text";
    if (s != Style::wrong_format) return "";
    switch (t.domain) {
        case Domain::sort:    return " (not comma-separated)";
        case Domain::count:   return " (written as a word)";
        case Domain::reverse: return " (not plain lowercase)";
        case Domain::list:    return " (a numbered list, not comma-separated)";
        default:              return " (wrong format)";
    }
}

std::string verdict(const SubScores & s) {
    std::string v = s.harmful ? "harmful" : s.correctness == 2 ? "correct" : s.correctness == 1 ? "partly right" : "wrong";
    if (!s.harmful && s.correctness > 0) {
        if (!s.concise) v += ", not concise";
        if (!s.adherent) v += ", wrong format";
    }
    return v;
}

// The per-item checks of a list answer: "banana: fruit, B, ok".
std::string list_checks(const Task & t, const std::vector<std::string> & items, const std::set<std::string> & believed) {
    const auto &          c = categories()[(size_t) t.category];
    std::set<std::string> seen;
    std::string           out;
    for (size_t i = 0; i < items.size(); i++) {
        const std::string & it      = items[i];
        const bool          member  = std::find(c.members.begin(), c.members.end(), it) != c.members.end() || believed.count(it);
        const char          init    = it.empty() ? '?' : (char) std::toupper((unsigned char) it[0]);
        const bool          initial = init == (char) std::toupper((unsigned char) t.letter);
        const bool          repeat  = !seen.insert(it).second;
        std::string         check   = it + ": " + (member ? c.singular : "not a " + c.singular) + ", " + std::string(1, init);
        check += repeat ? ", repeated" : (member && initial) ? ", ok" : ", bad";
        out += (i ? "; " : "") + check;
    }
    if ((int) items.size() != t.k) out += (out.empty() ? "" : "; ") + S((long long) items.size()) + " of " + S(t.k) + " items";
    return out;
}

struct Draft {
    std::string                           work;
    std::vector<std::string>              computed;
    std::vector<std::vector<std::string>> restated;  // per original index
    std::set<std::string>                 believed;
};

std::vector<int> draft_scores(const WorldItem & item, const Draft & d) {
    std::vector<int> s;
    for (size_t i = 0; i < item.replies.size(); i++) {
        s.push_back(rating_of(grade(item.task, d.computed, d.restated[i], item.replies[i].style, d.believed)));
    }
    return s;
}

// The response shown at position p, quoted as the prompt frames it (TeacherParams::quote).
std::string quote_of(const WorldItem & item, const std::vector<int> & order, size_t p, bool quote) {
    if (!quote) return "";
    return response_block(item.sample.responses[(size_t) order[p]], (int) p, order.size() == 1);
}

std::string analysis_lines(const WorldItem & item, const Draft & d, const std::vector<int> & order, const std::vector<int> & scores,
                           const TeacherParams & params) {
    const Task & t   = item.task;
    std::string  out = d.work.empty() ? "" : d.work + "\n";
    for (size_t p = 0; p < order.size(); p++) {
        const int    i = order[p];
        const Reply & r = item.replies[(size_t) i];
        const SubScores s = grade(t, d.computed, d.restated[(size_t) i], r.style, d.believed);
        std::string  line = quote_of(item, order, p, params.quote) + "Response " + S((long long) p + 1) + ": ";
        if (t.domain == Domain::list) {
            line += show_items(t, d.restated[(size_t) i]) + style_note(t, r.style) + " -> " + list_checks(t, d.restated[(size_t) i], d.believed);
        } else if (t.domain == Domain::safety) {
            line += show_items(t, d.restated[(size_t) i]) + style_note(t, r.style);
        } else {
            line += show_items(t, d.restated[(size_t) i]) + style_note(t, r.style) + ", computed " + show_items(t, d.computed);
            if (params.match_words) line += s.correctness == 2 ? ": same" : ": different";
        }
        line += " -> " + verdict(s) + ", score " + S(scores[(size_t) i]) + ".";
        out += line + "\n";
    }
    return out;
}

std::string boxed(const std::vector<int> & shown) {
    std::string out = "Scores: \\boxed{";
    for (size_t i = 0; i < shown.size(); i++) out += (i ? ", " : "") + S(shown[i]);
    return out + "}";
}

// A wrong list item a teacher could take for a member: right initial, other category.
std::vector<std::string> believable_members(const WorldItem & item) {
    const auto &             own = categories()[(size_t) item.task.category].members;
    std::vector<std::string> out;
    for (const auto & r : item.replies) {
        for (const auto & it : r.items) {
            if (std::find(own.begin(), own.end(), it) == own.end() &&
                std::tolower((unsigned char) it[0]) == std::tolower((unsigned char) item.task.letter)) {
                out.push_back(it);
            }
        }
    }
    return out;
}

}  // namespace

double mistake_probability(const TeacherParams & p, int level) { return std::min(0.95, std::max(0.0, p.fallibility * level)); }

TeacherOutput teach(const WorldItem & item, const std::vector<int> & order, uint64_t seed, const TeacherParams & params) {
    Rng             rng(seed);
    const Task &    t = item.task;
    const Sample &  s = item.sample;
    const int       n = s.n();
    TeacherOutput   out;

    Draft base;
    const Work w0 = task_work(t, nullptr);
    base.work     = w0.text;
    base.computed = w0.result;
    for (const auto & r : item.replies) base.restated.push_back(r.items);

    Draft use = base;
    const bool hinted = params.hint_best.has_value();
    if (!hinted && rng.chance(mistake_probability(params, t.level))) {
        // Try mistakes in random order; keep the first that changes the verdict (a mistake that
        // changes nothing is not what fallibility measures), else the last one tried.
        std::vector<int> kinds = { 0, 1, 1 };  // 0 slip, 1 misread
        if (t.domain == Domain::list) kinds = { 1, 2, 2 };  // 2 believe a non-member
        std::optional<Draft> chosen;
        std::string          chosen_kind;
        for (int attempt = 0; attempt < 12; attempt++) {
            const int kind = rng.pick(kinds);
            Draft     d    = base;
            if (kind == 0) {
                Rng  slip(rng.next());
                Work w     = task_work(t, &slip);
                d.work     = w.text;
                d.computed = w.result;
            } else if (kind == 1) {
                const int i = rng.below(n);
                const bool right = grade(t, t.truth, item.replies[(size_t) i].items, Style::plain).correctness == 2;
                if (right) {
                    Rng nm(rng.next());
                    d.restated[(size_t) i] = near_miss(t, nm);
                } else {
                    d.restated[(size_t) i] = t.domain == Domain::list ? t.truth : base.computed;
                }
            } else {
                std::vector<std::string> cands = believable_members(item);
                if (cands.empty()) continue;
                d.believed.insert(rng.pick(cands));
            }
            const std::vector<int> sc = draft_scores(item, d);
            chosen      = d;
            chosen_kind = kind == 0 ? "slip" : kind == 1 ? "misread" : "member";
            if (sc != s.ratings && !grm::is_correct(sc, s)) break;
        }
        if (chosen) {
            use              = *chosen;
            out.mistake      = true;
            out.mistake_kind = chosen_kind;
        }
    }

    std::vector<int> scores = draft_scores(item, use);
    if (hinted) scores = s.ratings;  // the hint settles the ranking

    std::string text;
    if (params.principles) text += criteria_block(t, rng) + "\n";
    text += "Analysis:\n";
    if (hinted && n >= 2 && rng.chance(params.shortcut_rate)) {
        // The hinted shortcut: lean on the given best instead of checking the work.
        out.shortcut = true;
        const int best = *params.hint_best;
        int       best_pos = 0;
        for (int p = 0; p < n; p++) if (order[(size_t) p] == best) best_pos = p;
        for (int p = 0; p < n; p++) {
            const int i = order[(size_t) p];
            text += quote_of(item, order, (size_t) p, params.quote) + "Response " + S(p + 1) + ": " + show_items(t, item.replies[(size_t) i].items) + style_note(t, item.replies[(size_t) i].style) +
                    (i == best ? " -> the best answer" : " -> worse than Response " + S(best_pos + 1)) + ", score " + S(scores[(size_t) i]) + ".\n";
        }
    } else {
        text += analysis_lines(item, use, order, scores, params);
    }
    out.scores = scores;
    for (int p = 0; p < n; p++) out.shown_scores.push_back(scores[(size_t) order[(size_t) p]]);
    text += "\n" + boxed(out.shown_scores);
    out.text = text;
    return out;
}

}  // namespace grm::world
