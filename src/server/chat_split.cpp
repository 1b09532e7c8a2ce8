// Chat-template transcript parsing for OpenRLHF queries (see chat_split.h for the rule).
#include "server/chat_split.h"

#include "core/chatml.h"

#include <algorithm>

namespace grm::server {

namespace {

// Role-tagged templates: OPEN role ROLE_END content CLOSE.
struct TaggedSyntax {
    const char * name;
    const char * open;
    const char * role_end;
    const char * close;
    const char * assistant_role;  // how this family spells the assistant
};

const TaggedSyntax k_tagged[] = {
    { "chatml", k_chatml_begin, "\n", k_chatml_end, "assistant" },
    { "llama3", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "assistant" },
    { "gemma", "<start_of_turn>", "\n", "<end_of_turn>", "model" },
};

// Marker-delimited templates: each marker opens a turn of a fixed role that runs to the next marker.
struct MarkedSyntax {
    const char * name;
    const char * user;
    const char * assistant;
    const char * system;  // may be empty
};

const MarkedSyntax k_marked[] = {
    { "deepseek", "<\xEF\xBD\x9CUser\xEF\xBD\x9C>", "<\xEF\xBD\x9C" "Assistant\xEF\xBD\x9C>", "" },
    { "phi", "<|user|>", "<|assistant|>", "<|system|>" },
    { "inst", "[INST]", "[/INST]", "" },
    { "plain", "User:", "Assistant:", "System:" },
    { "human", "Human:", "Assistant:", "" },
};

const char * k_special_tokens[] = {
    "<|im_end|>", "<|eot_id|>", "</s>", "<s>", "<|endoftext|>", "<|end_of_text|>", "<|begin_of_text|>",
    "<end_of_turn>", "<|end|>", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "<bos>", "<eos>", "<pad>", "<|pad|>",
};

std::string trim(const std::string & s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

std::string remove_special_tokens(std::string s) {
    for (const char * t : k_special_tokens) {
        const std::string tok = t;
        for (size_t p; (p = s.find(tok)) != std::string::npos;) s.erase(p, tok.size());
    }
    return s;
}

std::string normalize_role(std::string role, const char * assistant_role) {
    role = trim(role);
    std::transform(role.begin(), role.end(), role.begin(), [](unsigned char c) { return (char) std::tolower(c); });
    if (role == assistant_role || role == "model" || role == "bot") return "assistant";
    if (role == "human") return "user";
    return role;
}

std::vector<Message> parse_tagged(const std::string & text, const TaggedSyntax & syn) {
    std::vector<Message> out;
    const std::string    open = syn.open, role_end = syn.role_end, close = syn.close;
    size_t               p = text.find(open);
    while (p != std::string::npos) {
        size_t r = p + open.size();
        size_t e = text.find(role_end, r);
        if (e == std::string::npos) break;
        std::string role  = normalize_role(text.substr(r, e - r), syn.assistant_role);
        size_t      c     = e + role_end.size();
        size_t      end   = text.find(close, c);
        size_t      next  = text.find(open, c);
        size_t      stop  = std::min(end, next);
        std::string body  = text.substr(c, stop == std::string::npos ? std::string::npos : stop - c);
        out.push_back({ role, trim(remove_special_tokens(body)) });
        p = next;
    }
    return out;
}

std::vector<Message> parse_marked(const std::string & text, const MarkedSyntax & syn) {
    struct Hit {
        size_t      pos, len;
        std::string role;
    };
    std::vector<Hit> hits;
    auto             collect = [&](const std::string & marker, const std::string & role) {
        if (marker.empty()) return;
        for (size_t p = text.find(marker); p != std::string::npos; p = text.find(marker, p + marker.size())) {
            hits.push_back({ p, marker.size(), role });
        }
    };
    collect(syn.user, "user");
    collect(syn.assistant, "assistant");
    collect(syn.system, "system");
    std::sort(hits.begin(), hits.end(), [](const Hit & a, const Hit & b) { return a.pos < b.pos; });

    std::vector<Message> out;
    if (hits.empty()) return out;
    // text before the first marker is a system prompt (DeepSeek puts it there)
    std::string head = trim(remove_special_tokens(text.substr(0, hits[0].pos)));
    if (!head.empty()) out.push_back({ "system", head });
    for (size_t i = 0; i < hits.size(); i++) {
        size_t      b    = hits[i].pos + hits[i].len;
        size_t      e    = i + 1 < hits.size() ? hits[i + 1].pos : text.size();
        std::string body = text.substr(b, e - b);
        // Llama 2 puts the system prompt inside the first user turn
        size_t so = body.find("<<SYS>>"), sc = body.find("<</SYS>>");
        if (hits[i].role == "user" && so != std::string::npos && sc != std::string::npos && sc > so) {
            out.push_back({ "system", trim(body.substr(so + 7, sc - so - 7)) });
            body = body.substr(sc + 8);
        }
        out.push_back({ hits[i].role, trim(remove_special_tokens(body)) });
    }
    return out;
}

// The family whose markers appear in `text`, tried in k_tagged then k_marked order.
std::vector<Message> parse_any(const std::string & text) {
    for (const auto & syn : k_tagged) {
        if (text.find(syn.open) != std::string::npos) return parse_tagged(text, syn);
    }
    for (const auto & syn : k_marked) {
        if (text.find(syn.assistant) != std::string::npos || text.find(syn.user) != std::string::npos) {
            return parse_marked(text, syn);
        }
    }
    return {};
}

struct Split {
    size_t      prompt_end = std::string::npos;  // query[0, prompt_end) is the prompt
    size_t      response_begin = 0;
    std::string marker;
};

Split find_assistant_marker(const std::string & q) {
    Split s;
    auto  try_marker = [&](const std::string & m) {
        size_t p = q.rfind(m);
        if (p == std::string::npos) return false;
        s.prompt_end     = p;
        s.response_begin = p + m.size();
        s.marker         = m;
        return true;
    };
    for (const auto & syn : k_tagged) {
        std::string base = std::string(syn.open) + syn.assistant_role + syn.role_end;
        if (q.find(syn.open) == std::string::npos) continue;
        if (try_marker(base)) return s;
    }
    for (const auto & syn : k_marked) {
        if (try_marker(syn.assistant)) return s;
    }
    return s;
}

}  // namespace

std::string strip_end_tokens(std::string r) {
    for (bool changed = true; changed;) {
        changed = false;
        size_t e = r.find_last_not_of(" \t\r\n");
        r.resize(e == std::string::npos ? 0 : e + 1);
        for (const char * t : k_special_tokens) {
            const std::string tok = t;
            if (r.size() >= tok.size() && r.compare(r.size() - tok.size(), tok.size(), tok) == 0) {
                r.resize(r.size() - tok.size());
                changed = true;
            }
        }
    }
    // the response starts after the marker; Llama 3 and Gemma put blank lines there
    size_t b = r.find_first_not_of(" \t\r\n");
    return b == std::string::npos ? "" : r.substr(b);
}

std::vector<Message> parse_transcript(const std::string & text) {
    std::vector<Message> turns = parse_any(text);
    // the generation prompt ("<|im_start|>assistant\n") leaves an empty assistant turn at the end
    while (!turns.empty() && turns.back().content.empty()) turns.pop_back();
    turns.erase(std::remove_if(turns.begin(), turns.end(), [](const Message & m) { return m.content.empty(); }),
                turns.end());
    bool roles_ok = !turns.empty() && turns.back().role == "user";
    for (const auto & m : turns) {
        if (m.role != "user" && m.role != "assistant" && m.role != "system") roles_ok = false;
    }
    if (!roles_ok) {
        std::string plain = trim(remove_special_tokens(text));
        return { Message{ "user", plain } };
    }
    return turns;
}

Result<RewardQuery> split_reward_query(const std::string & query, const std::string * prompt) {
    RewardQuery out;
    std::string prompt_text;
    if (prompt && !prompt->empty()) {
        // OpenRLHF detokenizes prompt + response together; a BOS the template did not print can
        // precede the prompt, so the prompt is looked for, not only compared at position 0.
        size_t p = query.compare(0, prompt->size(), *prompt) == 0 ? 0 : query.find(*prompt);
        if (p != std::string::npos) {
            prompt_text  = query.substr(0, p + prompt->size());
            out.response = query.substr(p + prompt->size());
            out.rule     = p == 0 ? "prompt" : "prompt_found";
        }
    }
    if (out.rule.empty()) {
        Split s = find_assistant_marker(query);
        if (s.prompt_end == std::string::npos) {
            return make_error(Errc::invalid_argument,
                              prompt && !prompt->empty()
                                  ? "does not contain its prompt and has no assistant marker to split on"
                                  : "no prompt given and no assistant marker (e.g. '<|im_start|>assistant') to split on");
        }
        prompt_text  = query.substr(0, s.prompt_end);
        out.response = query.substr(s.response_begin);
        out.rule     = "marker " + s.marker;
    }
    out.response     = strip_end_tokens(out.response);
    out.conversation = parse_transcript(prompt_text);
    if (out.conversation.back().content.empty()) {
        return make_error(Errc::invalid_argument, "the prompt part is empty");
    }
    return out;
}

}  // namespace grm::server
