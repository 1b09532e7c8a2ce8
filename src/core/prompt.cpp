// grm's own pointwise GRM prompt text, template files and rendering.
#include "core/prompt.h"

#include <fstream>
#include <set>
#include <sstream>

namespace grm {

namespace {

const char * k_multi_principles =
    "You are a careful judge of AI assistant responses. Judge the {n} responses to the query below.\n"
    "First write \"Specific Criteria:\" and 2-4 criteria for this query, one per line as "
    "\"- criterion (weight: W%)\", weights summing to 100 (think of instruction following, "
    "correctness, usefulness, detail and relevance; say what a correct answer must contain).\n"
    "Then write \"Analysis:\" and check each response against the criteria, showing your work.\n"
    "Finally write \"Scores:\" and score each response from 1 to 10, in order, as \\boxed{s1, ..., s{n}}.\n"
    "{hint}\n"
    "{conversation}[Query]\n{query}\n[End of Query]\n\n{responses}";

const char * k_single_principles =
    "You are a careful judge of AI assistant responses. Judge the response to the query below.\n"
    "First write \"Specific Criteria:\" and 2-4 criteria for this query, one per line as "
    "\"- criterion (weight: W%)\", weights summing to 100 (think of instruction following, "
    "correctness, usefulness, detail and relevance; say what a correct answer must contain).\n"
    "Then write \"Analysis:\" and check the response against the criteria, showing your work.\n"
    "Finally write \"Scores:\" and score the response from 1 to 10 as \\boxed{s}.\n"
    "{hint}\n"
    "{conversation}[Query]\n{query}\n[End of Query]\n\n[Response]\n{response}\n[End of Response]\n";

// The 0/1 variant (the paper trains single responses with it): the same steps, a 0/1 verdict.
const char * k_binary_principles =
    "You are a careful judge of AI assistant responses. Judge the response to the query below.\n"
    "First write \"Specific Criteria:\" and 2-4 criteria for this query, one per line as "
    "\"- criterion (weight: W%)\", weights summing to 100 (think of instruction following, "
    "correctness, usefulness, detail and relevance; say what a correct answer must contain).\n"
    "Then write \"Analysis:\" and check the response against the criteria, showing your work.\n"
    "Finally write \"Scores:\" and score the response 1 if it is correct and acceptable, 0 if not, as \\boxed{s}.\n"
    "{hint}\n"
    "{conversation}[Query]\n{query}\n[End of Query]\n\n[Response]\n{response}\n[End of Response]\n";

const char * k_multi_plain =
    "You are a careful judge of AI assistant responses. Judge the {n} responses to the query below.\n"
    "Write \"Analysis:\" and check each response, showing your work.\n"
    "Then write \"Scores:\" and score each response from 1 to 10, in order, as \\boxed{s1, ..., s{n}}.\n"
    "{hint}\n"
    "{conversation}[Query]\n{query}\n[End of Query]\n\n{responses}";

const char * k_single_plain =
    "You are a careful judge of AI assistant responses. Judge the response to the query below.\n"
    "Write \"Analysis:\" and check the response, showing your work.\n"
    "Then write \"Scores:\" and score the response from 1 to 10 as \\boxed{s}.\n"
    "{hint}\n"
    "{conversation}[Query]\n{query}\n[End of Query]\n\n[Response]\n{response}\n[End of Response]\n";

const char * k_binary_plain =
    "You are a careful judge of AI assistant responses. Judge the response to the query below.\n"
    "Write \"Analysis:\" and check the response, showing your work.\n"
    "Then write \"Scores:\" and score the response 1 if it is correct and acceptable, 0 if not, as \\boxed{s}.\n"
    "{hint}\n"
    "{conversation}[Query]\n{query}\n[End of Query]\n\n[Response]\n{response}\n[End of Response]\n";

// The placeholders each kind of template text may use.
const std::set<std::string> k_prompt_names = { "conversation", "context", "query", "responses", "response", "n", "hint" };
const std::set<std::string> k_block_names  = { "i", "response" };
const std::set<std::string> k_hint_names   = { "i" };

// Placeholders are {name} with name in [a-z_]; other braces (\boxed{...}) are literal text.
bool placeholder_at(const std::string & t, size_t i, std::string & name, size_t & end) {
    if (t[i] != '{') return false;
    size_t j = i + 1;
    while (j < t.size() && ((t[j] >= 'a' && t[j] <= 'z') || t[j] == '_')) j++;
    if (j == i + 1 || j >= t.size() || t[j] != '}') return false;
    name = t.substr(i + 1, j - i - 1);
    end  = j + 1;
    return true;
}

std::string join(const std::set<std::string> & names) {
    std::string out;
    for (const auto & n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

Status check_placeholders(const std::string & t, const std::set<std::string> & known, const std::string & which) {
    std::string name;
    size_t      end;
    for (size_t i = 0; i < t.size(); i++) {
        if (placeholder_at(t, i, name, end) && !known.count(name)) {
            return make_error(Errc::invalid_argument,
                              which + ": unknown placeholder {" + name + "} (known here: " + join(known) + ")");
        }
    }
    return ok_status();
}

// One pass over the template text: values are inserted as they are, never scanned again (a
// response that contains "{i}" stays as written).
template <typename Value> std::string substitute(const std::string & text, const std::set<std::string> & known, Value value) {
    std::string out;
    std::string name;
    size_t      end;
    for (size_t i = 0; i < text.size();) {
        if (placeholder_at(text, i, name, end) && known.count(name)) {
            out += value(name);
            i = end;
        } else {
            out += text[i++];
        }
    }
    return out;
}

std::string capitalize(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = char(s[0] - 'a' + 'A');
    return s;
}

std::string role_lines(const std::vector<Message> & turns, size_t count) {
    std::string out;
    for (size_t i = 0; i < count; i++) out += capitalize(turns[i].role) + ": " + turns[i].content + "\n";
    return out;
}

}  // namespace

PromptTemplate default_template(bool with_principles) {
    return with_principles ? PromptTemplate{ k_multi_principles, k_single_principles, k_binary_principles }
                           : PromptTemplate{ k_multi_plain, k_single_plain, k_binary_plain };
}

Result<PromptTemplate> load_template(const std::string & path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open template file '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_template(ss.str(), path);
}

Result<PromptTemplate> parse_template(const std::string & text, const std::string & origin) {
    PromptTemplate    t;
    std::string *     into  = &t.multi;
    size_t            start = 0;  // where the current section's text begins
    std::set<std::string> seen;
    // A section starts at a whole line "=== name ==="; the newline before that line ends the text
    // above it and is not part of it. Everything else is kept byte for byte (a final newline too).
    for (size_t ls = 0; ls < text.size();) {
        size_t            le   = text.find('\n', ls);
        std::string       line = text.substr(ls, le == std::string::npos ? std::string::npos : le - ls);
        if (!line.empty() && line.back() == '\r') line.pop_back();  // a file saved with CRLF
        const size_t      next = le == std::string::npos ? text.size() : le + 1;
        if (line.size() > 8 && line.compare(0, 4, "=== ") == 0 && line.compare(line.size() - 4, 4, " ===") == 0) {
            const std::string name = line.substr(4, line.size() - 8);
            std::string * sec = name == "single" ? &t.single : name == "binary" ? &t.binary : name == "block" ? &t.block
                              : name == "hint" ? &t.hint : nullptr;
            if (!sec) {
                return make_error(Errc::invalid_argument, "template '" + origin + "': unknown section '" + line +
                                                              "' (known: === single ===, === binary ===, === block ===, === hint ===)");
            }
            if (!seen.insert(name).second) {
                return make_error(Errc::invalid_argument, "template '" + origin + "': section '" + line + "' given twice");
            }
            *into = text.substr(start, (ls > start ? ls - 1 : start) - start);
            into  = sec;
            start = next;
        }
        ls = next;
    }
    *into = text.substr(std::min(start, text.size()));
    if (t.multi.find("{responses}") == std::string::npos && t.multi.find("{response}") == std::string::npos) {
        return make_error(Errc::invalid_argument, "template '" + origin + "': has no {responses} placeholder");
    }
    const std::string where = "template '" + origin + "'";
    if (auto st = check_placeholders(t.multi, k_prompt_names, where); !st) return st.error();
    if (auto st = check_placeholders(t.single, k_prompt_names, where + " (single)"); !st) return st.error();
    if (auto st = check_placeholders(t.binary, k_prompt_names, where + " (binary)"); !st) return st.error();
    if (auto st = check_placeholders(t.block, k_block_names, where + " (block)"); !st) return st.error();
    if (auto st = check_placeholders(t.hint, k_hint_names, where + " (hint)"); !st) return st.error();
    if (t.block.find("{response}") == std::string::npos) {
        return make_error(Errc::invalid_argument, where + " (block): has no {response} placeholder");
    }
    return t;
}

std::pair<std::string, std::string> response_markers(int position, bool single) {
    const std::string k = single ? "" : " " + std::to_string(position + 1);
    return { "[Response" + k + "]\n", "[End of Response" + k + "]\n" };
}

std::string response_block(const std::string & text, int position, bool single) {
    const auto [open, close] = response_markers(position, single);
    return open + text + "\n" + close;
}

std::string render_responses(const Sample & s, const std::vector<int> & order, const std::string & block) {
    std::string out;
    for (int p = 0; p < s.n(); p++) {
        out += substitute(block, k_block_names, [&](const std::string & name) {
            return name == "i" ? std::to_string(p + 1) : s.responses[(size_t) order[(size_t) p]];
        });
    }
    return out;
}

std::string render_prompt(const PromptTemplate & t, const Sample & s, const std::vector<int> & order,
                          std::optional<int> hint_position, bool binary) {
    const int   n      = s.n();
    binary             = binary && n == 1;
    const bool  single = binary || (n == 1 && !t.single.empty());
    std::string conversation;
    if (s.conversation.size() > 1) {
        conversation = "[Conversation]\n" + role_lines(s.conversation, s.conversation.size() - 1) + "[End of Conversation]\n\n";
    }
    std::string hint;
    if (hint_position) {
        hint = single ? "(Hint: the response is " + std::string(s.label && *s.label ? "acceptable" : "not acceptable") + ".)\n"
                      : substitute(t.hint, k_hint_names, [&](const std::string &) { return std::to_string(*hint_position + 1); });
    }
    return substitute(binary ? t.binary : single ? t.single : t.multi, k_prompt_names, [&](const std::string & name) -> std::string {
        if (name == "conversation") return conversation;
        if (name == "context") return role_lines(s.conversation, s.conversation.size());
        if (name == "query") return s.query();
        if (name == "responses") return render_responses(s, order, t.block);
        if (name == "response") return s.responses[(size_t) order[0]];
        if (name == "n") return std::to_string(n);
        return hint;
    });
}

}  // namespace grm
