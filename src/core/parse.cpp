// Parser for GRM generations: "Specific Criteria:" / "Analysis:" / "Scores: \boxed{...}", with the
// markdown around the labels that released models write ("**Scores:** \boxed{8, 8}", "### Analysis:").
#include "core/parse.h"

#include <cctype>

namespace grm {

const char * unscorable_name(Unscorable u) {
    switch (u) {
        case Unscorable::none:         return "none";
        case Unscorable::engine_error: return "engine_error";
        case Unscorable::truncated:    return "truncated";
        case Unscorable::no_box:       return "no_box";
        case Unscorable::not_integer:  return "not_integer";
        case Unscorable::wrong_count:  return "wrong_count";
        case Unscorable::out_of_range: return "out_of_range";
    }
    return "unknown";
}

namespace {

std::string trim(const std::string & s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// "- Correct sum of 85 (weight: 40%)" -> {"Correct sum of 85", 40}
Principle parse_principle(std::string line) {
    line = trim(line);
    while (!line.empty() && (line[0] == '-' || line[0] == '*' || line[0] == ' ')) line.erase(0, 1);
    // a leading "1." / "2)" enumeration
    size_t d = 0;
    while (d < line.size() && std::isdigit((unsigned char) line[d])) d++;
    if (d > 0 && d < line.size() && (line[d] == '.' || line[d] == ')')) line = trim(line.substr(d + 1));
    Principle p;
    size_t    open = line.rfind('(');
    if (open != std::string::npos) {
        std::string tail = line.substr(open);
        for (char & c : tail) c = char(std::tolower((unsigned char) c));  // "(Weight: 30%)" too
        size_t i = tail.find_first_of("0123456789");
        if (i != std::string::npos && tail.find("weight") != std::string::npos) {
            size_t j = i;
            while (j < tail.size() && std::isdigit((unsigned char) tail[j])) j++;
            p.weight = std::stoi(tail.substr(i, std::min<size_t>(j - i, 6)));
            line     = trim(line.substr(0, open));
        }
    }
    p.text = line;
    return p;
}

// A section label as models write it: "Analysis:", "**Analysis:**", "**Analysis**:", "### Analysis:".
// [begin, end): from the markup before the name to the markup after the colon.
struct Label {
    size_t begin = std::string::npos, end = std::string::npos;
    bool   found() const { return begin != std::string::npos; }
};

Label find_label(const std::string & t, const std::string & name, bool last) {
    for (size_t at = last ? t.rfind(name) : t.find(name); at != std::string::npos;
         at = last ? (at == 0 ? std::string::npos : t.rfind(name, at - 1)) : t.find(name, at + 1)) {
        size_t e = at + name.size();
        while (e < t.size() && t[e] == '*') e++;
        if (e >= t.size() || t[e] != ':') continue;
        e++;
        while (e < t.size() && t[e] == '*') e++;
        size_t b = at;
        while (b > 0 && (t[b - 1] == '*' || t[b - 1] == '#' || t[b - 1] == ' ')) b--;
        return { b, e };
    }
    return {};
}

// Trims whitespace and the markdown emphasis/heading marks a section may start or end with.
std::string strip_markup(const std::string & s) {
    size_t b = s.find_first_not_of(" \t\r\n*#");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n*#");
    return s.substr(b, e - b + 1);
}

bool is_integer(const std::string & s) {
    size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    if (i >= s.size() || s.size() - i > 6) return false;
    for (; i < s.size(); i++) {
        if (!std::isdigit((unsigned char) s[i])) return false;
    }
    return true;
}

}  // namespace

ParsedJudgment parse_judgment(const std::string & text, int n, FinishReason finish, bool clip_scores, bool binary) {
    ParsedJudgment r;
    if (finish == FinishReason::error) {
        r.reason = Unscorable::engine_error;
        r.detail = "the engine failed to produce this sample";
        return r;
    }
    const Label crit = find_label(text, "Specific Criteria", false);
    const Label an   = find_label(text, "Analysis", false);
    const Label sc   = find_label(text, "Scores", true);
    const size_t box = text.rfind("\\boxed{");
    // Where the box's line starts when that line is only a label for it ("### Output: \boxed{..}").
    size_t box_line = box;
    if (box != std::string::npos) {
        const size_t      nl     = text.rfind('\n', box);
        const size_t      ls     = nl == std::string::npos ? 0 : nl + 1;
        const std::string prefix = strip_markup(text.substr(ls, box - ls));
        if (prefix.empty() || prefix.back() == ':') box_line = ls;
    }
    // A section runs from its label to the next label after it (or the box, or the end).
    auto section = [&](const Label & from, std::initializer_list<size_t> nexts) {
        size_t end = text.size();
        for (size_t b : nexts) {
            if (b != std::string::npos && b > from.begin && b < end) end = b;
        }
        return strip_markup(text.substr(from.end, end - from.end));
    };
    if (crit.found()) {
        const std::string body = section(crit, { an.begin, sc.begin, box_line });
        size_t            pos  = 0;
        while (pos <= body.size()) {
            size_t nl = body.find('\n', pos);
            Principle p = parse_principle(body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
            if (!p.text.empty()) r.principles.push_back(std::move(p));
            if (nl == std::string::npos) break;
            pos = nl + 1;
        }
    }
    if (an.found()) r.analysis = section(an, { sc.begin, box_line });
    size_t close = box == std::string::npos ? std::string::npos : text.find('}', box);
    if (box == std::string::npos || close == std::string::npos) {
        if (finish == FinishReason::length) {
            r.reason = Unscorable::truncated;
            r.detail = "generation hit the token limit before a complete \\boxed{...}";
        } else {
            r.reason = Unscorable::no_box;
            r.detail = box == std::string::npos ? "no \\boxed{...} in the output" : "\\boxed{ is never closed";
        }
        return r;
    }
    std::string      inner = trim(text.substr(box + 7, close - box - 7));
    std::vector<int> scores;
    for (size_t pos = 0; !inner.empty();) {  // an empty box has zero entries: wrong_count below
        size_t      comma = inner.find(',', pos);
        std::string item  = trim(inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
        if (!is_integer(item)) {
            r.reason = Unscorable::not_integer;
            r.detail = "box entry '" + item + "' is not an integer";
            return r;
        }
        scores.push_back(std::stoi(item));
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    if ((int) scores.size() != n) {
        r.reason = Unscorable::wrong_count;
        r.detail = "expected " + std::to_string(n) + " scores, got " + std::to_string(scores.size());
        return r;
    }
    binary       = binary && n == 1;  // the 0/1 variant exists for one response only
    const int lo = binary ? 0 : 1, hi = binary ? 1 : 10;
    for (int & s : scores) {
        if (clip_scores && (s < lo || s > hi)) {
            s = s < lo ? lo : hi;
            r.clipped++;
        }
        if (s < lo || s > hi) {
            r.reason = Unscorable::out_of_range;
            r.detail = "score " + std::to_string(s) + " outside " + std::to_string(lo) + ".." + std::to_string(hi);
            return r;
        }
    }
    r.scores = std::move(scores);
    return r;
}

}  // namespace grm
