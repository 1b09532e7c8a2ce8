// JSON bodies for /v1/judge, /get_reward and the OpenAI-compatible endpoints.
#include "server/responses.h"

#include "core/judgment_json.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>

namespace grm::server {

using json = nlohmann::json;

std::string dump(const json & j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::vector<double> mean_rewards(const Judgment & j) {
    std::vector<double> out;
    if (j.n_voted == 0) return out;
    for (double r : j.rewards) out.push_back(r / j.n_voted);
    return out;
}

std::string unscorable_reason(const Judgment & j) {
    std::string best;
    int         count = 0;
    for (const auto & [reason, c] : j.unscorable) {
        if (c > count) best = reason, count = c;
    }
    return best;
}

json judgment_json(const Judgment & j, const JudgeRequest & req, const BatchInfo & info, double total_ms,
                   const std::string & model) {
    // The shape `grm score --json` writes, plus what a server client needs on top of it.
    json out = judgment_to_json(req.sample, j, true);
    long long pt = 0, ct = 0;
    for (size_t i = 0; i < j.samples.size(); i++) {
        const Trajectory & t = j.samples[i];
        json &             s = out["samples"][i];
        s["index"]           = (int) i;
        s["reason"]          = unscorable_name(t.parsed.reason);
        s["detail"]          = t.parsed.detail;
        s["scores"]          = t.parsed.ok() ? json(t.scores) : json(nullptr);
        s["meta_score"]      = t.meta_score ? json(*t.meta_score) : json(nullptr);
        if (!req.return_trajectories) s.erase("text");
        pt += t.generation.prompt_tokens;
        ct += t.generation.completion_tokens;
    }
    out["object"] = "grm.judgment";
    out["model"]  = model;
    out["n"]      = req.sample.n();
    out["k"]      = (int) j.samples.size();
    out["valid"]  = j.n_voted > 0;
    if (j.n_voted > 0) {
        out["mean_scores"]       = mean_rewards(j);
        out["unscorable_reason"] = nullptr;
    } else {
        out["rewards"]           = nullptr;
        out["mean_scores"]       = nullptr;
        out["unscorable_reason"] = unscorable_reason(j);
    }
    out["usage"]   = { { "prompt_tokens", pt }, { "completion_tokens", ct }, { "total_tokens", pt + ct } };
    out["timings"] = { { "queue_ms", info.queue_ms },
                       { "inference_ms", info.inference_ms },
                       { "total_ms", total_ms },
                       { "batch_tasks", info.batch_tasks } };
    const JudgeParams & p = req.params;
    out["options"] = { { "k", p.k },
                       { "k_meta", p.k_meta },
                       { "clip_scores", p.clip_scores },
                       { "seed", p.seed },
                       { "temperature", p.sampling.temperature },
                       { "top_p", p.sampling.top_p },
                       { "max_tokens", p.sampling.max_tokens } };
    return out;
}

json reward_json(const std::vector<const Judgment *> & js, const RewardRequest & req, double unscorable_reward) {
    // OpenRLHF turns every extra_logs entry into a tensor: numbers only, one per query.
    json rewards = json::array(), scores = json::array(), reasons = json::array();
    json valid = json::array(), n_valid = json::array(), n_voted = json::array(), bad_rate = json::array();
    for (const Judgment * j : js) {
        bool ok = j->n_voted > 0;
        if (ok) {
            double r = mean_rewards(*j)[0];
            rewards.push_back(r);
            scores.push_back(std::clamp((r - 1.0) / 9.0, 0.0, 1.0));
            reasons.push_back(nullptr);
        } else {
            rewards.push_back(unscorable_reward);
            scores.push_back(0.0);
            reasons.push_back(unscorable_reason(*j));
        }
        valid.push_back(ok ? 1.0 : 0.0);
        n_valid.push_back(j->n_valid);
        n_voted.push_back(j->n_voted);
        bad_rate.push_back(j->samples.empty() ? 1.0 : 1.0 - double(j->n_valid) / j->samples.size());
    }
    json out;
    out["rewards"]           = std::move(rewards);
    out["scores"]            = std::move(scores);
    out["extra_logs"]        = { { "valid", valid }, { "n_valid", n_valid }, { "n_voted", n_voted }, { "unscorable_rate", bad_rate } };
    out["unscorable_reason"] = std::move(reasons);
    out["split_rule"]        = req.rules;
    return out;
}

json completion_json(const std::vector<Generation> & gens, const CompletionRequest & req, bool chat,
                     const std::string & model) {
    static std::atomic<unsigned long long> counter{ 0 };
    long long created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    json out;
    out["id"]      = std::string(chat ? "chatcmpl-grm-" : "cmpl-grm-") + std::to_string(++counter);
    out["object"]  = chat ? "chat.completion" : "text_completion";
    out["created"] = created;
    out["model"]   = req.model.empty() ? model : req.model;
    json      choices = json::array();
    long long pt = 0, ct = 0;
    for (size_t i = 0; i < gens.size(); i++) {
        const Generation & g = gens[i];
        json               c;
        c["index"] = (int) i;
        if (chat) c["message"] = { { "role", "assistant" }, { "content", g.text }, { "refusal", nullptr } };
        else c["text"] = g.text;
        c["finish_reason"] = finish_reason_name(g.finish);
        c["logprobs"]      = nullptr;
        if (g.finish == FinishReason::error) c["error"] = g.error;
        choices.push_back(std::move(c));
        // the prompt is counted once per distinct prompt, the way OpenAI reports n > 1
        if (i % req.n == 0) pt += g.prompt_tokens;
        ct += g.completion_tokens;
    }
    out["choices"] = std::move(choices);
    out["usage"]   = { { "prompt_tokens", pt }, { "completion_tokens", ct }, { "total_tokens", pt + ct } };
    return out;
}

std::string completion_sse(const std::vector<Generation> & gens, const CompletionRequest & req, bool chat,
                           const std::string & model) {
    // Generation is not incremental here: the whole reply is rendered as the chunks a streaming
    // client expects (chat: per choice its text, then its finish_reason), so SDK stream readers work.
    json        whole = completion_json(gens, req, chat, model);
    json        base  = { { "id", whole["id"] }, { "object", chat ? "chat.completion.chunk" : "text_completion" },
                          { "created", whole["created"] }, { "model", whole["model"] } };
    std::string out;
    auto        emit = [&](json chunk) { out += "data: " + dump(chunk) + "\n\n"; };
    for (const auto & c : whole["choices"]) {
        json text = base;
        if (chat) {
            json done       = base;
            text["choices"] = json::array({ { { "index", c["index"] },
                                              { "delta", { { "role", "assistant" }, { "content", c["message"]["content"] } } },
                                              { "logprobs", nullptr }, { "finish_reason", nullptr } } });
            done["choices"] = json::array({ { { "index", c["index"] }, { "delta", json::object() }, { "logprobs", nullptr },
                                              { "finish_reason", c["finish_reason"] } } });
            emit(text);
            emit(done);
        } else {
            // The SDK types a completions chunk as a Completion, whose finish_reason is never null:
            // text and finish_reason travel in one chunk.
            text["choices"] = json::array({ c });
            emit(text);
        }
    }
    if (req.include_usage) {
        json usage       = base;
        usage["choices"] = json::array();
        usage["usage"]   = whole["usage"];
        emit(usage);
    }
    out += "data: [DONE]\n\n";
    return out;
}

json rule_reward_json(const std::vector<scaling::RuleReward> & rs, const RuleRewardRequest & req) {
    // Numbers only in extra_logs (OpenRLHF makes tensors of them), one per judgment.
    json rewards = json::array(), scores = json::array(), reasons = json::array();
    json correct = json::array(), valid = json::array(), truncated = json::array();
    for (const auto & r : rs) {
        rewards.push_back(r.reward);
        scores.push_back(r.correct ? 1.0 : 0.0);
        reasons.push_back(unscorable_name(r.reason));
        correct.push_back(r.correct ? 1.0 : 0.0);
        valid.push_back(r.reason == Unscorable::none ? 1.0 : 0.0);
        truncated.push_back(r.reason == Unscorable::truncated ? 1.0 : 0.0);
    }
    json out;
    out["rewards"]    = std::move(rewards);
    out["scores"]     = std::move(scores);
    out["extra_logs"] = { { "correct", correct }, { "valid", valid }, { "truncated", truncated } };
    out["reasons"]    = std::move(reasons);
    out["split_rule"] = req.rules;
    return out;
}

}  // namespace grm::server
