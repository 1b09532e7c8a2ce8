// JSON form of judgments and trajectories.
#include "core/judgment_json.h"

namespace grm {

using json = nlohmann::json;

json trajectory_to_json(const Trajectory & t) {
    json j;
    j["order"]  = t.order;
    j["text"]   = t.generation.text;
    j["finish"] = finish_reason_name(t.generation.finish);
    j["valid"]  = t.parsed.ok();
    if (t.parsed.ok()) {
        j["scores"] = t.scores;
        if (t.parsed.clipped > 0) j["clipped"] = t.parsed.clipped;  // clip_scores moved this many
    } else {
        j["reason"] = unscorable_name(t.parsed.reason);
        j["detail"] = t.parsed.detail;
    }
    if (!t.generation.error.empty()) j["error"] = t.generation.error;
    json ps = json::array();
    for (const auto & p : t.parsed.principles) {
        json pj = { { "text", p.text } };
        if (p.weight >= 0) pj["weight"] = p.weight;
        ps.push_back(pj);
    }
    j["principles"] = ps;
    j["analysis"]   = t.parsed.analysis;
    if (t.meta_score) j["meta_score"] = *t.meta_score;
    j["voted"]             = t.voted;
    j["prompt_tokens"]     = t.generation.prompt_tokens;
    j["completion_tokens"] = t.generation.completion_tokens;
    return j;
}

json judgment_to_json(const Sample & s, const Judgment & jd, bool with_samples) {
    json j;
    j["id"]      = s.id;
    j["rewards"] = jd.rewards;  // empty when no sample was scorable
    j["best"]    = jd.best ? json(*jd.best) : json(nullptr);
    j["n_valid"] = jd.n_valid;
    j["n_voted"] = jd.n_voted;
    j["unscorable"] = jd.unscorable;
    if (with_samples) {
        j["samples"] = json::array();
        for (const auto & t : jd.samples) j["samples"].push_back(trajectory_to_json(t));
    }
    return j;
}

}  // namespace grm
