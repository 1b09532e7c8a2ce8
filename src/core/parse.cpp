// Parser for GRM generations: "Specific Criteria:" / "Analysis:" / "Scores: \boxed{...}".
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
        size_t      i    = tail.find_first_of("0123456789");
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

bool is_integer(const std::string & s) {
    size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    if (i >= s.size() || s.size() - i > 6) return false;
    for (; i < s.size(); i++) {
        if (!std::isdigit((unsigned char) s[i])) return false;
    }
    return true;
}

}  // namespace

ParsedJudgment parse_judgment(const std::string & text, int n, FinishReason finish) {
    ParsedJudgment r;
    if (finish == FinishReason::error) {
        r.reason = Unscorable::engine_error;
        r.detail = "the engine failed to produce this sample";
        return r;
    }
    const std::string k_crit = "Specific Criteria:", k_an = "Analysis:", k_sc = "Scores:";
    size_t            crit = text.find(k_crit);
    size_t            an   = text.find(k_an);
    size_t            sc   = text.rfind(k_sc);
    if (crit != std::string::npos) {
        size_t end = an != std::string::npos && an > crit ? an : (sc != std::string::npos && sc > crit ? sc : text.size());
        std::string body = text.substr(crit + k_crit.size(), end - crit - k_crit.size());
        size_t      pos  = 0;
        while (pos <= body.size()) {
            size_t      nl   = body.find('\n', pos);
            std::string line = trim(body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
            if (!line.empty()) r.principles.push_back(parse_principle(line));
            if (nl == std::string::npos) break;
            pos = nl + 1;
        }
    }
    size_t box = text.rfind("\\boxed{");
    if (an != std::string::npos) {
        size_t end = sc != std::string::npos && sc > an ? sc : (box != std::string::npos && box > an ? box : text.size());
        r.analysis = trim(text.substr(an + k_an.size(), end - an - k_an.size()));
    }
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
    for (int s : scores) {
        if (s < 1 || s > 10) {
            r.reason = Unscorable::out_of_range;
            r.detail = "score " + std::to_string(s) + " outside 1..10";
            return r;
        }
    }
    r.scores = std::move(scores);
    return r;
}

}  // namespace grm
