// Request validation for /v1/judge, /get_reward and the OpenAI-compatible endpoints.
#include "server/requests.h"

#include "server/chat_split.h"

#include <cmath>
#include <random>

namespace grm::server {

using json = nlohmann::json;

namespace {

ApiError missing(const std::string & field) { return bad_request("missing_field", "field '" + field + "' is required"); }

ApiError wrong(const std::string & field, const std::string & expected, const json & got) {
    return bad_request("invalid_field", "field '" + field + "': expected " + expected + ", got " +
                                            (got.is_null() ? std::string("null") : std::string(got.type_name())));
}

ApiError out_of_range(const std::string & field, const std::string & range, const json & got) {
    return bad_request("invalid_field", "field '" + field + "': " + got.dump() + " is outside " + range);
}

// Optional integer field in [lo, hi]; absent or null keeps `out`.
std::optional<ApiError> get_int(const json & j, const char * field, long long lo, long long hi, long long & out) {
    if (!j.contains(field) || j[field].is_null()) return std::nullopt;
    const json & v = j[field];
    if (!v.is_number_integer()) return wrong(field, "an integer", v);
    long long x = v.is_number_unsigned() ? (long long) std::min<uint64_t>(v.get<uint64_t>(), (uint64_t) INT64_MAX)
                                         : v.get<long long>();
    if (x < lo || x > hi) return out_of_range(field, std::to_string(lo) + ".." + std::to_string(hi), v);
    out = x;
    return std::nullopt;
}

std::optional<ApiError> get_float(const json & j, const char * field, double lo, double hi, double & out) {
    if (!j.contains(field) || j[field].is_null()) return std::nullopt;
    const json & v = j[field];
    if (!v.is_number()) return wrong(field, "a number", v);
    double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi) {
        return out_of_range(field, std::to_string(lo) + ".." + std::to_string(hi), v);
    }
    out = x;
    return std::nullopt;
}

std::optional<ApiError> get_bool(const json & j, const char * field, bool & out) {
    if (!j.contains(field) || j[field].is_null()) return std::nullopt;
    if (!j[field].is_boolean()) return wrong(field, "true or false", j[field]);
    out = j[field].get<bool>();
    return std::nullopt;
}

// seed: any non-negative integer up to 2^64-1
std::optional<ApiError> get_seed(const json & j, uint64_t & out) {
    if (!j.contains("seed") || j["seed"].is_null()) return std::nullopt;
    const json & v = j["seed"];
    if (v.is_number_unsigned()) out = v.get<uint64_t>();
    else if (v.is_number_integer() && v.get<long long>() >= 0) out = (uint64_t) v.get<long long>();
    else return wrong("seed", "a non-negative integer", v);
    return std::nullopt;
}

std::optional<ApiError> get_timeout(const json & j, const ServerOptions & opt, double & out) {
    out = opt.limits.default_timeout_s;
    return get_float(j, "timeout", 0.001, opt.limits.max_timeout_s, out);
}

// The judging options a request may override (native and /get_reward share them); `o` starts as
// the server's JudgeParams.
std::optional<ApiError> get_judge_options(const json & j, const ServerOptions & opt, JudgeParams & o) {
    long long k = o.k, k_meta = o.k_meta, max_tokens = o.sampling.max_tokens;
    double    temperature = o.sampling.temperature, top_p = o.sampling.top_p;
    if (auto e = get_int(j, "k", 1, opt.limits.max_k, k)) return e;
    if (auto e = get_int(j, "k_meta", 0, opt.limits.max_k, k_meta)) return e;
    if (auto e = get_int(j, "max_tokens", 1, opt.limits.max_tokens, max_tokens)) return e;
    if (auto e = get_float(j, "temperature", 0.0, 2.0, temperature)) return e;
    if (auto e = get_float(j, "top_p", 1e-6, 1.0, top_p)) return e;
    if (auto e = get_seed(j, o.seed)) return e;
    if (auto e = get_bool(j, "clip_scores", o.clip_scores)) return e;
    if (k_meta > 0 && !opt.meta) {
        return bad_request("invalid_field", "field 'k_meta': this server has no meta RM (start grm serve with --meta)");
    }
    o.k                    = (int) k;
    o.k_meta               = (int) k_meta;
    o.sampling.max_tokens  = (int) max_tokens;
    o.sampling.temperature = (float) temperature;
    o.sampling.top_p       = (float) top_p;
    return std::nullopt;
}

// sample_from_json names the field in its message and says in `field` which way it is wrong.
ApiError sample_error(const Error & e) {
    switch (e.field) {
        case FieldErrc::invalid_utf8: return bad_request("invalid_utf8", e.message);
        case FieldErrc::missing:      return bad_request("missing_field", e.message);
        case FieldErrc::empty:        return bad_request("empty_responses", e.message);
        case FieldErrc::invalid:
        case FieldErrc::none:         break;
    }
    return bad_request("invalid_field", e.message);
}

std::optional<ApiError> get_stop(const json & j, std::vector<std::string> & stop) {
    if (!j.contains("stop") || j["stop"].is_null()) return std::nullopt;
    const json & v = j["stop"];
    if (v.is_string()) {
        stop.push_back(v.get<std::string>());
    } else if (v.is_array()) {
        if (v.size() > 4) return bad_request("invalid_field", "field 'stop': at most 4 sequences, got " + std::to_string(v.size()));
        for (size_t i = 0; i < v.size(); i++) {
            if (!v[i].is_string()) return wrong("stop[" + std::to_string(i) + "]", "a string", v[i]);
            stop.push_back(v[i].get<std::string>());
        }
    } else {
        return wrong("stop", "a string or an array of strings", v);
    }
    for (const auto & s : stop) {
        if (s.empty()) return bad_request("invalid_field", "field 'stop': empty stop sequence");
    }
    return std::nullopt;
}

// OpenAI message content: a string, or an array of {"type": "text", "text": ...} parts.
Parsed<std::string> message_text(const json & c, const std::string & field) {
    if (c.is_string()) return c.get<std::string>();
    if (!c.is_array()) return wrong(field, "a string or an array of text parts", c);
    std::string out;
    for (size_t i = 0; i < c.size(); i++) {
        std::string f = field + "[" + std::to_string(i) + "]";
        if (!c[i].is_object() || !c[i].contains("type") || !c[i]["type"].is_string()) return wrong(f, "a content part object", c[i]);
        if (c[i]["type"] != "text") {
            return bad_request("unsupported", "field '" + f + "': only text content parts are supported");
        }
        if (!c[i].contains("text") || !c[i]["text"].is_string()) return wrong(f + ".text", "a string", c[i].value("text", json()));
        out += c[i]["text"].get<std::string>();
    }
    return out;
}

uint64_t random_seed() {
    static std::mt19937_64 rng{ std::random_device{}() };
    static std::mutex      m;
    std::lock_guard<std::mutex> lock(m);
    return rng();
}

}  // namespace

std::optional<JsonDepthError> json_depth_exceeds(const std::string & body, int max_depth) {
    int  depth     = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < body.size(); i++) {
        char c = body[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return JsonDepthError{ i };
        } else if (c == ']' || c == '}') {
            depth--;  // unbalanced input is the parser's to report
        }
    }
    return std::nullopt;
}

Parsed<json> parse_body(const std::string & body, int max_depth) {
    if (!is_valid_utf8(body)) return bad_request("invalid_utf8", "request body is not valid UTF-8");
    // nlohmann's parser recurses once per level: a deep body would exhaust the thread's stack
    // (150,000 levels crash the process), so depth is checked before parsing.
    if (auto e = json_depth_exceeds(body, max_depth)) {
        return bad_request("too_deep", "JSON nesting deeper than " + std::to_string(max_depth) + " levels (at byte " +
                                           std::to_string(e->position) + "; --max-json-depth)");
    }
    try {
        json j = json::parse(body);
        if (!j.is_object()) return bad_request("invalid_request", std::string("request body must be a JSON object, got ") + j.type_name());
        return j;
    } catch (const json::parse_error & e) {
        return bad_request("invalid_json", std::string("malformed JSON: ") + e.what());
    } catch (const json::exception & e) {
        // out_of_range: a number beyond double (1e400)
        return bad_request("invalid_json", std::string("unreadable JSON: ") + e.what());
    }
}

Parsed<JudgeRequest> parse_judge_request(const json & j, const ServerOptions & opt) {
    JudgeRequest r;
    if (!j.contains("conversation") && !j.contains("query")) return missing("conversation' or 'query");
    if (!j.contains("responses")) return missing("responses");
    const json & rs = j["responses"];
    if (!rs.is_array()) return wrong("responses", "an array of strings", rs);
    if (rs.empty()) return bad_request("empty_responses", "field 'responses' is empty (need at least one response)");
    if ((int) rs.size() > opt.limits.max_responses) {
        return bad_request("too_many_responses", "field 'responses' has " + std::to_string(rs.size()) +
                                                     " entries; this server accepts at most " +
                                                     std::to_string(opt.limits.max_responses));
    }
    // Only the sample's own fields: ground truth (ratings, best, label) is not for a reward server.
    json s;
    for (const char * f : { "id", "conversation", "query", "responses" }) {
        if (j.contains(f)) s[f] = j[f];
    }
    Result<Sample> sample = sample_from_json(s);
    if (!sample) return sample_error(sample.error());
    r.sample  = std::move(*sample);
    r.params = opt.judge;
    if (auto e = get_judge_options(j, opt, r.params)) return *e;
    if (auto e = get_bool(j, "return_trajectories", r.return_trajectories)) return *e;
    if (auto e = get_timeout(j, opt, r.timeout_s)) return *e;
    return r;
}

namespace {

// OpenRLHF's `query` (+ optional `prompts`), split into conversation and response per entry: the
// one split /get_reward and /rule_reward share. Empty lists are a valid (empty) batch: OpenRLHF
// shards a batch over its reward URLs and sends the surplus ones empty lists.
Parsed<std::vector<RewardQuery>> split_queries(const json & j, const ServerOptions & opt) {
    if (!j.contains("query")) return missing("query");
    json q = j["query"];
    if (q.is_string()) q = json::array({ q });  // a single query from a hand-written client
    if (!q.is_array()) return wrong("query", "an array of strings", q);
    if ((int) q.size() > opt.limits.max_queries) {
        return bad_request("too_many_queries", "field 'query' has " + std::to_string(q.size()) +
                                                   " entries; this server accepts at most " +
                                                   std::to_string(opt.limits.max_queries));
    }
    const json * prompts = nullptr;
    if (j.contains("prompts") && !j["prompts"].is_null()) {
        prompts = &j["prompts"];
        if (!prompts->is_array()) return wrong("prompts", "an array of strings", *prompts);
        if (prompts->size() != q.size()) {
            return bad_request("invalid_field", "field 'prompts' has " + std::to_string(prompts->size()) +
                                                    " entries for " + std::to_string(q.size()) + " queries");
        }
    }
    std::vector<RewardQuery> out;
    for (size_t i = 0; i < q.size(); i++) {
        std::string field = "query[" + std::to_string(i) + "]";
        if (!q[i].is_string()) return wrong(field, "a string", q[i]);
        std::string prompt;
        if (prompts) {
            const json & p = (*prompts)[i];
            if (!p.is_string() && !p.is_null()) return wrong("prompts[" + std::to_string(i) + "]", "a string or null", p);
            if (p.is_string()) prompt = p.get<std::string>();
        }
        Result<RewardQuery> split = split_reward_query(q[i].get<std::string>(), &prompt);
        if (!split) return bad_request("unsplittable_query", field + ": " + split.error().message);
        out.push_back(std::move(*split));
    }
    return out;
}

}  // namespace

Parsed<RewardRequest> parse_reward_request(const json & j, const ServerOptions & opt) {
    RewardRequest r;
    auto queries = split_queries(j, opt);
    if (!queries.ok()) return queries.error;
    if (j.contains("labels") && !j["labels"].is_null()) {
        const json & l = j["labels"];
        if (!l.is_array()) return wrong("labels", "an array of strings or nulls", l);
        // labels are ground truth for rule-based rewards; a generative RM judges without them
    }
    r.params = opt.judge;
    if (auto e = get_judge_options(j, opt, r.params)) return *e;
    if (auto e = get_timeout(j, opt, r.timeout_s)) return *e;
    for (size_t i = 0; i < queries.value->size(); i++) {
        RewardQuery & split = (*queries.value)[i];
        Sample        s;
        s.conversation = std::move(split.conversation);
        s.responses    = { std::move(split.response) };
        if (auto st = validate_sample(s); !st) {
            return bad_request("invalid_field", "query[" + std::to_string(i) + "]: " + st.error().message);
        }
        r.samples.push_back(std::move(s));
        r.rules.push_back(std::move(split.rule));
    }
    return r;
}

Parsed<RuleRewardRequest> parse_rule_reward_request(const json & j, const ServerOptions & opt) {
    RuleRewardRequest r;
    if (j.contains("judgments") && j.contains("query")) {
        return bad_request("invalid_request", "send either 'judgments' or 'query' (+ 'prompts'), not both");
    }
    std::string count_field = "judgments";
    if (j.contains("judgments")) {
        const json & g = j["judgments"];
        if (!g.is_array()) return wrong("judgments", "an array of strings", g);
        if ((int) g.size() > opt.limits.max_queries) {
            return bad_request("too_many_queries", "field 'judgments' has " + std::to_string(g.size()) +
                                                       " entries; this server accepts at most " +
                                                       std::to_string(opt.limits.max_queries));
        }
        for (size_t i = 0; i < g.size(); i++) {
            if (!g[i].is_string()) return wrong("judgments[" + std::to_string(i) + "]", "a string", g[i]);
            r.judgments.push_back(g[i].get<std::string>());
            r.rules.push_back("judgment");
        }
    } else {
        if (!j.contains("query")) return missing("judgments' or 'query");
        count_field  = "query";
        auto queries = split_queries(j, opt);
        if (!queries.ok()) return queries.error;
        for (auto & q : *queries.value) {
            r.judgments.push_back(std::move(q.response));
            r.rules.push_back(std::move(q.rule));
        }
    }
    const size_t n = r.judgments.size();
    auto aligned   = [&](const char * field, const json & v) -> std::optional<ApiError> {
        if (!v.is_array()) return wrong(field, "an array", v);
        if (v.size() != n) {
            return bad_request("invalid_field", std::string("field '") + field + "' has " + std::to_string(v.size()) +
                                                    " entries for " + std::to_string(n) + " " + count_field);
        }
        return std::nullopt;
    };
    if (!j.contains("labels") || j["labels"].is_null()) return missing("labels");
    const json & labels = j["labels"];
    if (auto e = aligned("labels", labels)) return *e;
    for (size_t i = 0; i < n; i++) {
        auto l = scaling::rule_label_from_json(labels[i], opt.limits.max_responses);
        if (!l) return bad_request("invalid_label", "field 'labels[" + std::to_string(i) + "]': " + l.error().message);
        r.labels.push_back(*l);
    }
    r.stopped.assign(n, true);
    if (j.contains("finish_reasons") && !j["finish_reasons"].is_null()) {
        const json & f = j["finish_reasons"];
        if (auto e = aligned("finish_reasons", f)) return *e;
        for (size_t i = 0; i < n; i++) {
            const std::string field = "finish_reasons[" + std::to_string(i) + "]";
            if (f[i].is_null()) continue;
            if (!f[i].is_string() || (f[i] != "stop" && f[i] != "length")) return wrong(field, "\"stop\", \"length\" or null", f[i]);
            r.stopped[i] = f[i] == "stop";
        }
    }
    return r;
}

Parsed<CompletionRequest> parse_completion_request(const json & j, const ServerOptions & opt, bool chat) {
    CompletionRequest r;
    std::vector<std::string> prompts;
    if (chat) {
        if (!j.contains("messages")) return missing("messages");
        const json & m = j["messages"];
        if (!m.is_array()) return wrong("messages", "an array of {role, content}", m);
        if (m.empty()) return bad_request("invalid_field", "field 'messages' is empty");
        std::vector<Message> turns;
        for (size_t i = 0; i < m.size(); i++) {
            std::string f = "messages[" + std::to_string(i) + "]";
            if (!m[i].is_object()) return wrong(f, "an object", m[i]);
            if (!m[i].contains("role")) return missing(f + ".role");
            if (!m[i]["role"].is_string()) return wrong(f + ".role", "a string", m[i]["role"]);
            if (!m[i].contains("content")) return missing(f + ".content");
            auto text = message_text(m[i]["content"], f + ".content");
            if (!text.ok()) return text.error;
            std::string role = m[i]["role"].get<std::string>();
            if (role != "system" && role != "user" && role != "assistant" && role != "developer") {
                return bad_request("invalid_field", "field '" + f + ".role': unknown role '" + role + "'");
            }
            turns.push_back({ role == "developer" ? "system" : role, *text.value });
        }
        if (turns.back().role != "user") {
            return bad_request("invalid_field", "field 'messages': the last message must have role 'user'");
        }
        // The engine renders the earlier turns and then the last user turn with the model's chat
        // template (an OpenAI-compatible backend receives them as messages).
        prompts.push_back(turns.back().content);
        turns.pop_back();
        r.request.history = std::move(turns);
    } else {
        if (!j.contains("prompt")) return missing("prompt");
        const json & p = j["prompt"];
        if (p.is_string()) {
            prompts.push_back(p.get<std::string>());
        } else if (p.is_array() && !p.empty() && p[0].is_string()) {
            for (size_t i = 0; i < p.size(); i++) {
                if (!p[i].is_string()) return wrong("prompt[" + std::to_string(i) + "]", "a string", p[i]);
                prompts.push_back(p[i].get<std::string>());
            }
        } else if (p.is_array() && !p.empty() && (p[0].is_number() || p[0].is_array())) {
            return bad_request("unsupported", "field 'prompt': token-id prompts are not supported; send text");
        } else {
            return wrong("prompt", "a string or a non-empty array of strings", p);
        }
    }
    if (auto e = get_bool(j, "stream", r.stream)) return *e;
    if (r.stream && j.contains("stream_options") && !j["stream_options"].is_null()) {
        const json & so = j["stream_options"];
        if (!so.is_object()) return wrong("stream_options", "an object", so);
        if (auto e = get_bool(so, "include_usage", r.include_usage)) return *e;
    }
    if (j.contains("model") && !j["model"].is_null()) {
        if (!j["model"].is_string()) return wrong("model", "a string", j["model"]);
        r.model = j["model"].get<std::string>();  // reported back; the model is fixed at start-up
    }

    // The OpenAI API's own defaults (T = 1, /v1/completions max_tokens 16), not grm's judging ones:
    // a client of this endpoint expects what the protocol documents.
    long long n = 1, max_tokens = chat ? 512 : 16, top_k = 0;
    double    temperature = 1.0, top_p = 1.0;
    if (auto e = get_int(j, "n", 1, opt.limits.max_n, n)) return *e;
    if (auto e = get_int(j, "max_tokens", 1, opt.limits.max_tokens, max_tokens)) return *e;
    if (chat) {
        if (auto e = get_int(j, "max_completion_tokens", 1, opt.limits.max_tokens, max_tokens)) return *e;
    }
    if (auto e = get_int(j, "top_k", 0, 1 << 20, top_k)) return *e;
    if (auto e = get_float(j, "temperature", 0.0, 2.0, temperature)) return *e;
    if (auto e = get_float(j, "top_p", 1e-6, 1.0, top_p)) return *e;
    if ((long long) prompts.size() * n > (long long) opt.limits.max_n * 8) {
        return bad_request("too_many_choices", "prompts x n = " + std::to_string(prompts.size() * n) +
                                                   " exceeds this server's limit of " + std::to_string(opt.limits.max_n * 8));
    }
    SamplingParams & sp = r.request.sampling;
    sp.seed             = random_seed();  // OpenAI semantics: no seed, no reproducibility
    if (auto e = get_seed(j, sp.seed)) return *e;
    if (auto e = get_stop(j, sp.stop)) return *e;
    if (auto e = get_timeout(j, opt, r.timeout_s)) return *e;
    sp.temperature = (float) temperature;
    sp.top_p       = (float) top_p;
    sp.top_k       = (int) top_k;
    sp.max_tokens  = (int) max_tokens;
    r.request.chat = chat;
    for (const auto & p : prompts) {
        for (int i = 0; i < n; i++) r.request.prompts.push_back(p);
    }
    r.n_prompts = (int) prompts.size();
    r.n         = (int) n;
    return r;
}

}  // namespace grm::server
