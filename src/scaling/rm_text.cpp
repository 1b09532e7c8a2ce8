// Scalar-RM input texts.
#include "scaling/rm_text.h"

namespace grm::scaling {

namespace {

std::string conversation_prefix(const Sample & s) {
    std::string out;
    for (size_t i = 0; i + 1 < s.conversation.size(); ++i)
        out += s.conversation[i].role + ": " + s.conversation[i].content + "\n";
    return out;
}

}  // namespace

std::string meta_rm_text(const Sample & s, const std::vector<int> & order, const std::string & trajectory) {
    std::string out = conversation_prefix(s) + "Query:\n" + s.query() + "\n\nResponses:\n";
    for (size_t p = 0; p < order.size(); ++p)
        out += "[" + std::to_string(p + 1) + "] " + s.responses[size_t(order[p])] + "\n";
    out += "\nJudgment:\n" + trajectory;
    return out;
}

std::string bt_rm_text(const Sample & s, int response) {
    return conversation_prefix(s) + "Query:\n" + s.query() + "\n\nResponse:\n" + s.responses[size_t(response)];
}

std::vector<int32_t> fit_context(const std::vector<int32_t> & tokens, int n_ctx) {
    if (n_ctx < 2 || int(tokens.size()) <= n_ctx) return tokens;
    std::vector<int32_t> out;
    out.push_back(tokens.front());
    out.insert(out.end(), tokens.end() - (n_ctx - 1), tokens.end());
    return out;
}

}  // namespace grm::scaling
