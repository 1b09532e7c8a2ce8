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

const std::set<std::string> k_placeholders = { "conversation", "query", "responses", "response", "n", "hint" };

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

Status check_placeholders(const std::string & t, const std::string & which) {
    std::string name;
    size_t      end;
    for (size_t i = 0; i < t.size(); i++) {
        if (placeholder_at(t, i, name, end) && !k_placeholders.count(name)) {
            return make_error(Errc::invalid_argument, which + " template: unknown placeholder {" + name +
                                                          "} (known: conversation, query, responses, response, n, hint)");
        }
    }
    return ok_status();
}

std::string capitalize(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = char(s[0] - 'a' + 'A');
    return s;
}

}  // namespace

PromptTemplate default_template(bool with_principles) {
    return with_principles ? PromptTemplate{ k_multi_principles, k_single_principles }
                           : PromptTemplate{ k_multi_plain, k_single_plain };
}

Result<PromptTemplate> load_template(const std::string & path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open template file '" + path + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string    text = ss.str();
    PromptTemplate t;
    const std::string sep = "\n=== single ===\n";
    size_t            pos = text.find(sep);
    t.multi               = pos == std::string::npos ? text : text.substr(0, pos);
    t.single              = pos == std::string::npos ? "" : text.substr(pos + sep.size());
    if (t.multi.find("{responses}") == std::string::npos && t.multi.find("{response}") == std::string::npos) {
        return make_error(Errc::invalid_argument, "template '" + path + "': has no {responses} placeholder");
    }
    if (auto st = check_placeholders(t.multi, "'" + path + "' multi"); !st) return st.error();
    if (auto st = check_placeholders(t.single, "'" + path + "' single"); !st) return st.error();
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

std::string render_responses(const Sample & s, const std::vector<int> & order) {
    std::string out;
    for (int p = 0; p < s.n(); p++) out += response_block(s.responses[(size_t) order[(size_t) p]], p, false);
    return out;
}

std::string render_prompt(const PromptTemplate & t, const Sample & s, const std::vector<int> & order,
                          std::optional<int> hint_position) {
    const int   n      = s.n();
    const bool  single = n == 1 && !t.single.empty();
    std::string conversation;
    if (s.conversation.size() > 1) {
        conversation = "[Conversation]\n";
        for (size_t i = 0; i + 1 < s.conversation.size(); i++) {
            conversation += capitalize(s.conversation[i].role) + ": " + s.conversation[i].content + "\n";
        }
        conversation += "[End of Conversation]\n\n";
    }
    std::string hint;
    if (hint_position) {
        hint = single ? "(Hint: the response is " + std::string(s.label && *s.label ? "acceptable" : "not acceptable") + ".)\n"
                      : "(Hint: Response " + std::to_string(*hint_position + 1) + " is the best one.)\n";
    }
    const std::string & text = single ? t.single : t.multi;
    std::string         out;
    std::string         name;
    size_t              end;
    for (size_t i = 0; i < text.size();) {
        if (placeholder_at(text, i, name, end) && k_placeholders.count(name)) {
            if (name == "conversation") out += conversation;
            else if (name == "query") out += s.query();
            else if (name == "responses") out += render_responses(s, order);
            else if (name == "response") out += s.responses[order[0]];
            else if (name == "n") out += std::to_string(n);
            else if (name == "hint") out += hint;
            i = end;
        } else {
            out += text[i++];
        }
    }
    return out;
}

}  // namespace grm
