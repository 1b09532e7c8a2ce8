// Preference rows -> samples: shape detection, field readers, HelpSteer2-style rating groups.
#include "data/preference_import.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace grm::data {

using json = nlohmann::json;

const char * row_shape_name(RowShape s) {
    switch (s) {
        case RowShape::pairwise: return "pairwise";
        case RowShape::listwise: return "listwise";
        case RowShape::strength: return "strength";
        case RowShape::ratings:  return "ratings";
        case RowShape::single:   return "single";
    }
    return "unknown";
}

std::optional<RowShape> row_shape_from_name(const std::string & name) {
    for (RowShape s : { RowShape::pairwise, RowShape::listwise, RowShape::strength, RowShape::ratings, RowShape::single }) {
        if (name == row_shape_name(s)) return s;
    }
    return std::nullopt;
}

namespace {

const char * const k_prompt_keys[]   = { "prompt", "conversation_input", "conversation", "messages", "input", "question", "problem" };
const char * const k_rating_attrs[]  = { "helpfulness", "correctness", "coherence", "complexity", "verbosity" };

Error bad(const std::string & field, const std::string & what) {
    return make_error(Errc::invalid_argument, "field '" + field + "': " + what);
}

std::string type_name(const json & v) { return v.is_null() ? "null" : v.type_name(); }

const json * first_of(const json & row, std::initializer_list<const char *> keys, std::string & which) {
    for (const char * k : keys) {
        if (row.contains(k) && !row[k].is_null()) {
            which = k;
            return &row[k];
        }
    }
    return nullptr;
}

Result<std::vector<Message>> messages_of(const json & v, const std::string & field) {
    if (v.is_string()) return std::vector<Message>{ { "user", v.get<std::string>() } };
    if (!v.is_array() || v.empty()) return bad(field, "expected a string or a non-empty list of messages, got " + type_name(v));
    std::vector<Message> out;
    for (size_t i = 0; i < v.size(); i++) {
        const json & m = v[i];
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string()) {
            return bad(field + "[" + std::to_string(i) + "]", "expected {\"role\": string, \"content\": string}");
        }
        out.push_back({ m["role"].get<std::string>(), m["content"].get<std::string>() });
    }
    return out;
}

// A response: a string, {"answer"|"content": string} (RMB), or a message list whose last turn is
// the assistant's.
Result<std::string> response_of(const json & v, const std::string & field) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object()) {
        for (const char * k : { "answer", "content" }) {
            if (v.contains(k) && v[k].is_string()) return v[k].get<std::string>();
        }
        return bad(field, "an object without a string \"answer\" or \"content\"");
    }
    if (v.is_array()) {
        auto ms = messages_of(v, field);
        if (!ms) return ms.error();
        if (ms->back().role != "assistant") return bad(field, "the last message is not the assistant's");
        return ms->back().content;
    }
    return bad(field, "expected a string, a message list or {\"answer\"}, got " + type_name(v));
}

// The conversation up to the responses: the prompt field, or (pairwise full transcripts) the
// chosen transcript without its last turn, which the rejected one must share.
Result<std::vector<Message>> conversation_of(const json & row, const char * chosen_key, const char * rejected_key) {
    std::string which;
    if (const json * p = first_of(row, { "prompt", "conversation_input", "conversation", "messages", "input", "question", "problem" }, which)) {
        return messages_of(*p, which);
    }
    if (chosen_key && row[chosen_key].is_array()) {
        auto c = messages_of(row[chosen_key], chosen_key);
        if (!c) return c.error();
        auto r = messages_of(row[rejected_key], rejected_key);
        if (!r) return r.error();
        c->pop_back();
        r->pop_back();
        const bool same = c->size() == r->size() && std::equal(c->begin(), c->end(), r->begin(), [](const Message & a, const Message & b) {
                              return a.role == b.role && a.content == b.content;
                          });
        if (!same) return bad(rejected_key, std::string("differs from '") + chosen_key + "' before the last assistant turn");
        if (c->empty()) return bad(chosen_key, "a transcript with no turn before the response");
        return *c;
    }
    std::string keys;
    for (const char * k : k_prompt_keys) keys += (keys.empty() ? "" : ", ") + std::string(k);
    return bad("prompt", "missing (looked for " + keys + ")");
}

std::string id_of(const json & row) {
    for (const char * k : { "id", "pair_uid", "bon_uid", "prompt_id", "uid" }) {
        if (!row.contains(k)) continue;
        if (row[k].is_string()) return row[k].get<std::string>();
        if (row[k].is_number_integer()) return std::to_string(row[k].get<long long>());
    }
    return "";
}

Result<Sample> pairwise(const json & row) {
    const char * rejected = row.contains("rejected") ? "rejected" : "reject";
    auto         conv     = conversation_of(row, "chosen", rejected);
    if (!conv) return conv.error();
    auto c = response_of(row["chosen"], "chosen");
    if (!c) return c.error();
    auto r = response_of(row[rejected], rejected);
    if (!r) return r.error();
    Sample s;
    s.conversation = std::move(*conv);
    s.responses    = { std::move(*c), std::move(*r) };
    s.best         = 0;
    return s;
}

Result<Sample> listwise(const json & row) {
    auto conv = conversation_of(row, nullptr, nullptr);
    if (!conv) return conv.error();
    Sample s;
    s.conversation = std::move(*conv);
    if (row.contains("bon_best")) {  // RMB best-of-N: the best first, then the losers
        auto b = response_of(row["bon_best"], "bon_best");
        if (!b) return b.error();
        s.responses.push_back(std::move(*b));
        if (!row.contains("loser_list") || !row["loser_list"].is_array()) return bad("loser_list", "expected a list");
        for (size_t i = 0; i < row["loser_list"].size(); i++) {
            auto l = response_of(row["loser_list"][i], "loser_list[" + std::to_string(i) + "]");
            if (!l) return l.error();
            s.responses.push_back(std::move(*l));
        }
        s.best = 0;
        return s;
    }
    const json & rs = row["responses"];
    if (!rs.is_array()) return bad("responses", "expected a list, got " + type_name(rs));
    for (size_t i = 0; i < rs.size(); i++) {
        auto t = response_of(rs[i], "responses[" + std::to_string(i) + "]");
        if (!t) return t.error();
        s.responses.push_back(std::move(*t));
    }
    if (!row.contains("best") || !row["best"].is_number_integer()) return bad("best", "expected an integer index");
    s.best = row["best"].get<int>();
    return s;
}

Result<Sample> single(const json & row) {
    auto conv = conversation_of(row, nullptr, nullptr);
    if (!conv) return conv.error();
    std::string  which;
    const json * resp = first_of(row, { "response", "llm_response", "solution", "completion" }, which);
    if (!resp) return bad("response", "missing (looked for response, llm_response, solution, completion)");
    auto text = response_of(*resp, which);
    if (!text) return text.error();
    Sample s;
    s.conversation = std::move(*conv);
    s.responses    = { std::move(*text) };
    if (row.contains("label") && row["label"].is_number_integer()) s.label = row["label"].get<int>();
    else if (row.contains("label") && row["label"].is_boolean()) s.label = row["label"].get<bool>() ? 1 : 0;
    else if (row.contains("correct") && row["correct"].is_boolean()) s.label = row["correct"].get<bool>() ? 1 : 0;
    else if (row.contains("error_label") && row["error_label"].is_string()) {
        const std::string e = row["error_label"];
        if (e != "error" && e != "no_error") return bad("error_label", "expected \"error\" or \"no_error\", got \"" + e + "\"");
        s.label = e == "no_error" ? 1 : 0;
    } else {
        return bad("label", "missing (looked for label 0/1, correct true/false, error_label)");
    }
    return s;
}

// "helpfulness" or "0.65*helpfulness + 0.8*correctness": (weight, attribute) terms.
Result<std::vector<std::pair<double, std::string>>> parse_overall(const std::string & expr) {
    std::vector<std::pair<double, std::string>> terms;
    std::stringstream                           ss(expr);
    for (std::string term; std::getline(ss, term, '+');) {
        term.erase(0, term.find_first_not_of(" \t"));
        term.erase(term.find_last_not_of(" \t") + 1);
        double w    = 1.0;
        size_t star = term.find('*');
        if (star != std::string::npos) {
            try {
                size_t used = 0;
                w           = std::stod(term.substr(0, star), &used);
                if (term.substr(0, star).find_first_not_of(" \t", used) != std::string::npos) throw std::invalid_argument(term);
            } catch (const std::exception &) {
                return make_error(Errc::invalid_argument, "--overall: '" + term + "' is not WEIGHT*ATTRIBUTE");
            }
            term = term.substr(star + 1);
            term.erase(0, term.find_first_not_of(" \t"));
        }
        if (term.empty()) return make_error(Errc::invalid_argument, "--overall '" + expr + "': an empty term");
        terms.push_back({ w, term });
    }
    if (terms.empty()) return make_error(Errc::invalid_argument, "--overall is empty");
    return terms;
}

}  // namespace

Result<RowShape> detect_shape(const json & row) {
    if (!row.is_object()) return make_error(Errc::invalid_argument, "expected a JSON object, got " + type_name(row));
    if (row.contains("chosen") && (row.contains("rejected") || row.contains("reject"))) return RowShape::pairwise;
    if (row.contains("bon_best") || (row.contains("responses") && row.contains("best"))) return RowShape::listwise;
    if (row.contains("response_1") && row.contains("response_2") && row.contains("preference_strength")) return RowShape::strength;
    for (const char * a : k_rating_attrs) {
        if (row.contains(a)) return RowShape::ratings;
    }
    if (row.contains("label") || row.contains("correct") || row.contains("error_label")) return RowShape::single;
    return make_error(Errc::invalid_argument,
                      "unrecognised row: no chosen/rejected, responses/best, bon_best, response_1/response_2/preference_strength, "
                      "rating attributes (helpfulness, ...) or label/correct/error_label");
}

json imported_to_json(const Imported & im) {
    json j = sample_to_json(im.sample);
    if (im.preference_strength) j["preference_strength"] = *im.preference_strength;
    return j;
}

Result<ImportResult> import_file(const std::string & path, const ImportParams & p, bool skip_bad) {
    auto overall = parse_overall(p.overall);
    if (!overall) return overall.error();
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open '" + path + "'");
    // Rows with their place ("FILE:LINE" for JSONL, "FILE item I" for a JSON array).
    std::vector<std::pair<std::string, json>> rows;
    std::stringstream                         all;
    all << in.rdbuf();
    const std::string text  = all.str();
    const size_t      first = text.find_first_not_of(" \t\r\n");
    ImportResult      out;
    auto fail = [&](const std::string & where, const std::string & why) -> std::optional<Error> {
        if (!skip_bad) return make_error(Errc::invalid_argument, where + ": " + why);
        out.skipped.push_back(where + ": " + why);
        return std::nullopt;
    };
    if (first != std::string::npos && text[first] == '[') {
        json doc = json::parse(text, nullptr, false);
        if (doc.is_discarded()) return make_error(Errc::invalid_argument, path + ": malformed JSON array");
        for (size_t i = 0; i < doc.size(); i++) rows.push_back({ path + " item " + std::to_string(i), std::move(doc[i]) });
    } else {
        std::stringstream ls(text);
        int               lineno = 0;
        for (std::string line; std::getline(ls, line);) {
            lineno++;
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            const std::string where = path + ":" + std::to_string(lineno);
            json              j     = json::parse(line, nullptr, false);
            if (j.is_discarded()) {
                if (auto e = fail(where, "malformed JSON")) return *e;
                continue;
            }
            rows.push_back({ where, std::move(j) });
        }
    }

    // Ratings rows of one prompt form one sample, placed where the prompt first appears.
    struct Group {
        std::string          where, id;
        std::vector<Message> conversation;
        std::vector<std::string> responses;
        std::vector<double>  overall;
    };
    std::vector<Group>                                   groups;
    std::map<std::string, size_t>                        group_of;
    std::vector<std::pair<size_t, std::optional<Imported>>> order;  // (group index or npos, sample)
    for (auto & [where, row] : rows) {
        out.rows++;
        auto shape = p.shape ? Result<RowShape>(*p.shape) : detect_shape(row);
        if (!shape) {
            if (auto e = fail(where, shape.error().message)) return *e;
            continue;
        }
        out.rows_by_shape[row_shape_name(*shape)]++;
        if (!row.is_object()) {
            if (auto e = fail(where, "expected a JSON object")) return *e;
            continue;
        }
        Imported         im;
        Result<Sample>   s = make_error(Errc::internal, "unreachable");
        if (*shape == RowShape::pairwise) s = pairwise(row);
        else if (*shape == RowShape::listwise) s = listwise(row);
        else if (*shape == RowShape::single) s = single(row);
        else if (*shape == RowShape::strength) {
            const json & st = row["preference_strength"];
            if (!st.is_number_integer()) {
                if (auto e = fail(where, "field 'preference_strength': expected an integer, got " + type_name(st))) return *e;
                continue;
            }
            const int strength = st.get<int>();
            if (strength == 0) {  // a tie has no best response to learn
                out.dropped++;
                out.dropped_by_reason["tie"]++;
                continue;
            }
            json pair      = row;
            pair["chosen"] = row[strength < 0 ? "response_1" : "response_2"];
            pair["rejected"] = row[strength < 0 ? "response_2" : "response_1"];
            s                       = pairwise(pair);
            im.preference_strength = std::abs(strength);
        } else {  // ratings
            auto conv = conversation_of(row, nullptr, nullptr);
            if (!conv) {
                if (auto e = fail(where, conv.error().message)) return *e;
                continue;
            }
            std::string  which;
            const json * resp = first_of(row, { "response", "llm_response", "solution", "completion" }, which);
            if (!resp) {
                if (auto e = fail(where, "field 'response': missing")) return *e;
                continue;
            }
            auto text_r = response_of(*resp, which);
            if (!text_r) {
                if (auto e = fail(where, text_r.error().message)) return *e;
                continue;
            }
            double value = 0.0;
            std::optional<std::string> why;
            for (const auto & [w, attr] : *overall) {
                if (!row.contains(attr) || !row[attr].is_number()) {
                    why = "field '" + attr + "' (in --overall): expected a number, got " + (row.contains(attr) ? type_name(row[attr]) : "nothing");
                    break;
                }
                value += w * row[attr].get<double>();
            }
            if (why) {
                if (auto e = fail(where, *why)) return *e;
                continue;
            }
            std::string key;
            for (const Message & m : *conv) key += m.role + '\x1f' + m.content + '\x1e';
            auto [it, fresh] = group_of.emplace(key, groups.size());
            if (fresh) {
                groups.push_back({ where, id_of(row), std::move(*conv), {}, {} });
                order.push_back({ it->second, std::nullopt });
            }
            groups[it->second].responses.push_back(std::move(*text_r));
            groups[it->second].overall.push_back(value);
            continue;
        }
        if (!s) {
            if (auto e = fail(where, s.error().message)) return *e;
            continue;
        }
        im.sample    = std::move(*s);
        im.sample.id = id_of(row);
        if (im.sample.id.empty()) im.sample.id = p.source + "/" + where.substr(where.find_last_of(": ") + 1);
        if (auto st = validate_sample(im.sample); !st) {
            if (auto e = fail(where, st.error().message)) return *e;
            continue;
        }
        order.push_back({ std::string::npos, std::move(im) });
    }

    for (auto & [g, im] : order) {
        if (g != std::string::npos) {
            Group & gr = groups[g];
            Imported r;
            r.sample.conversation = std::move(gr.conversation);
            r.sample.responses    = std::move(gr.responses);
            r.sample.id           = gr.id.empty() ? p.source + "/" + gr.where.substr(gr.where.find_last_of(": ") + 1) : gr.id;
            // 0..rating_max onto 1..10; the best is the strictly highest rating (ties are dropped:
            // the correctness rule needs one best response).
            for (double v : gr.overall) {
                r.sample.ratings.push_back(std::clamp(int(std::lround(1.0 + 9.0 * v / p.rating_max)), 1, 10));
            }
            if (r.sample.n() >= 2) {
                int best = 0;
                for (int i = 1; i < r.sample.n(); i++) {
                    if (r.sample.ratings[i] > r.sample.ratings[best]) best = i;
                }
                for (int i = 0; i < r.sample.n(); i++) {
                    if (i != best && r.sample.ratings[i] == r.sample.ratings[best]) best = -1;
                    if (best < 0) break;
                }
                if (best < 0) {
                    out.dropped++;
                    out.dropped_by_reason["tie at the top"]++;
                    continue;
                }
                r.sample.best = best;
            }
            if (auto st = validate_sample(r.sample); !st) {
                if (auto e = fail(gr.where, st.error().message)) return *e;
                continue;
            }
            im = std::move(r);
        }
        im->sample.source = p.source;
        out.samples.push_back(std::move(*im));
    }
    return out;
}

}  // namespace grm::data
