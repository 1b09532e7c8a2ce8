// JSONL sample format: parsing with field-naming errors, validation, writing.
#include "core/sample.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace grm {

using json = nlohmann::json;

bool is_valid_utf8(const std::string & s) {
    const auto * p = (const unsigned char *) s.data();
    size_t       i = 0, n = s.size();
    while (i < n) {
        unsigned c = p[i];
        int      len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (int k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        // reject overlong forms, surrogates and values past U+10FFFF
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return false;
        }
        i += len;
    }
    return true;
}

namespace {

Error field_error(const std::string & field, const std::string & what, FieldErrc kind = FieldErrc::invalid) {
    return Error{ Errc::invalid_argument, "field '" + field + "': " + what, kind };
}

Result<std::string> get_string(const json & j, const std::string & field) {
    if (!j.is_string()) return field_error(field, std::string("expected a string, got ") + j.type_name());
    std::string s = j.get<std::string>();
    if (!is_valid_utf8(s)) return field_error(field, "invalid UTF-8", FieldErrc::invalid_utf8);
    return s;
}

}  // namespace

Result<Sample> sample_from_json(const json & j) {
    if (!j.is_object()) return make_error(Errc::invalid_argument, std::string("expected a JSON object, got ") + j.type_name());
    Sample s;
    if (j.contains("id")) {
        if (j["id"].is_string()) s.id = j["id"].get<std::string>();
        else if (j["id"].is_number_integer()) s.id = std::to_string(j["id"].get<long long>());
        else return field_error("id", "expected a string or integer");
    }
    for (const char * f : { "source", "domain", "style" }) {
        if (j.contains(f) && !j[f].is_null()) {
            auto v = get_string(j[f], f);
            if (!v) return v.error();
            const std::string name(f);
            (name == "source" ? s.source : name == "domain" ? s.domain : s.style) = *v;
        }
    }
    if (j.contains("level") && !j["level"].is_null()) {
        if (!j["level"].is_number_integer()) return field_error("level", "expected an integer");
        s.level = j["level"].get<int>();
    }
    // conversation, or a bare query
    if (j.contains("conversation")) {
        const json & c = j["conversation"];
        if (!c.is_array()) return field_error("conversation", "expected an array of {role, content}");
        for (size_t i = 0; i < c.size(); i++) {
            std::string f = "conversation[" + std::to_string(i) + "]";
            if (!c[i].is_object() || !c[i].contains("role") || !c[i].contains("content")) {
                return field_error(f, "expected an object with 'role' and 'content'");
            }
            auto role    = get_string(c[i]["role"], f + ".role");
            auto content = get_string(c[i]["content"], f + ".content");
            if (!role) return role.error();
            if (!content) return content.error();
            s.conversation.push_back({ *role, *content });
        }
    } else if (j.contains("query")) {
        auto q = get_string(j["query"], "query");
        if (!q) return q.error();
        s.conversation.push_back({ "user", *q });
    } else {
        return field_error("conversation", "missing (give 'conversation' or 'query')", FieldErrc::missing);
    }
    if (!j.contains("responses")) return field_error("responses", "missing", FieldErrc::missing);
    const json & r = j["responses"];
    if (!r.is_array()) return field_error("responses", "expected an array of strings");
    for (size_t i = 0; i < r.size(); i++) {
        auto v = get_string(r[i], "responses[" + std::to_string(i) + "]");
        if (!v) return v.error();
        s.responses.push_back(*v);
    }
    if (j.contains("ratings") && !j["ratings"].is_null()) {
        const json & rt = j["ratings"];
        if (!rt.is_array()) return field_error("ratings", "expected an array of integers");
        for (size_t i = 0; i < rt.size(); i++) {
            if (!rt[i].is_number_integer()) return field_error("ratings[" + std::to_string(i) + "]", "expected an integer");
            s.ratings.push_back(rt[i].get<int>());
        }
    }
    if (j.contains("best") && !j["best"].is_null()) {
        if (!j["best"].is_number_integer()) return field_error("best", "expected an integer");
        s.best = j["best"].get<int>();
    }
    if (j.contains("label") && !j["label"].is_null()) {
        if (!j["label"].is_number_integer()) return field_error("label", "expected 0 or 1");
        s.label = j["label"].get<int>();
    }
    if (auto st = validate_sample(s); !st) return st.error();
    return s;
}

Status validate_sample(const Sample & s) {
    if (s.conversation.empty()) return field_error("conversation", "is empty");
    if (s.conversation.back().role != "user") return field_error("conversation", "last turn must have role 'user'");
    if (s.responses.empty()) return field_error("responses", "is empty (need at least one response)", FieldErrc::empty);
    int n = s.n();
    if (!s.ratings.empty()) {
        if ((int) s.ratings.size() != n) {
            return field_error("ratings", "has " + std::to_string(s.ratings.size()) + " entries for " + std::to_string(n) + " responses");
        }
        for (int r : s.ratings) {
            if (r < 1 || r > 10) return field_error("ratings", "value " + std::to_string(r) + " outside 1..10");
        }
    }
    if (s.best) {
        if (*s.best < 0 || *s.best >= n) return field_error("best", "index " + std::to_string(*s.best) + " out of range for " + std::to_string(n) + " responses");
        if (!s.ratings.empty()) {
            for (int i = 0; i < n; i++) {
                if (i != *s.best && s.ratings[i] >= s.ratings[*s.best]) return field_error("best", "rating is not strictly highest");
            }
        }
    }
    if (s.label && *s.label != 0 && *s.label != 1) return field_error("label", "must be 0 or 1");
    return ok_status();
}

json sample_to_json(const Sample & s) {
    json j;
    j["id"] = s.id;
    if (!s.source.empty()) j["source"] = s.source;
    if (!s.domain.empty()) j["domain"] = s.domain;
    if (s.level) j["level"] = s.level;
    if (!s.style.empty()) j["style"] = s.style;
    j["conversation"] = json::array();
    for (const auto & m : s.conversation) j["conversation"].push_back({ { "role", m.role }, { "content", m.content } });
    j["responses"] = s.responses;
    if (!s.ratings.empty()) j["ratings"] = s.ratings;
    if (s.best) j["best"] = *s.best;
    if (s.label) j["label"] = *s.label;
    return j;
}

Result<SampleFile> read_samples_jsonl(const std::string & path, bool skip_bad) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open '" + path + "'");
    SampleFile  out;
    std::string line;
    int         lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string where = path + ":" + std::to_string(lineno) + ": ";
        json        j     = json::parse(line, nullptr, false);
        Result<Sample> s  = j.is_discarded() ? Result<Sample>(make_error(Errc::invalid_argument, "malformed JSON"))
                                             : sample_from_json(j);
        if (!s) {
            if (!skip_bad) return make_error(Errc::invalid_argument, where + s.error().message);
            out.skipped.push_back(where + s.error().message);
            continue;
        }
        if (s->id.empty()) s->id = path + ":" + std::to_string(lineno);
        out.samples.push_back(std::move(*s));
    }
    return out;
}

}  // namespace grm
