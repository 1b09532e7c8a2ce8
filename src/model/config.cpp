// JSON load/save and validation of grm::LlamaConfig.
#include "model/config.h"
#include "core/atomic_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace grm::model {

nlohmann::json config_to_json(const LlamaConfig & c) {
    return nlohmann::json{
        {"n_vocab", c.n_vocab},     {"n_ctx", c.n_ctx},         {"n_embd", c.n_embd},
        {"n_layer", c.n_layer},     {"n_head", c.n_head},       {"n_head_kv", c.n_head_kv},
        {"n_ff", c.n_ff},           {"rms_eps", c.rms_eps},     {"rope_theta", c.rope_theta},
        {"tied_embeddings", c.tied_embeddings}, {"arch", arch_name(c.arch)}, {"qkv_bias", c.qkv_bias},
        {"rope_freq_factors", c.rope_freq_factors},
    };
}

Status validate_config(const LlamaConfig & c) {
    auto bad = [](const std::string & m) { return Status(make_error(Errc::invalid_argument, "config: " + m)); };
    if (c.n_vocab <= 0) return bad("n_vocab must be positive");
    if (c.n_ctx <= 0 || c.n_embd <= 0 || c.n_layer <= 0 || c.n_ff <= 0) return bad("sizes must be positive");
    if (c.n_head <= 0 || c.n_head_kv <= 0) return bad("head counts must be positive");
    if (c.n_embd % c.n_head != 0) return bad("n_embd must be a multiple of n_head");
    if (c.n_head % c.n_head_kv != 0) return bad("n_head must be a multiple of n_head_kv");
    if (c.head_dim() % 2 != 0) return bad("head size (n_embd / n_head) must be even for rotary pairs");
    if (!(c.rms_eps > 0.0f) || !(c.rope_theta > 0.0f)) return bad("rms_eps and rope_theta must be positive");
    if (c.arch == Arch::qwen2 && !c.qkv_bias) return bad("arch qwen2 has q/k/v biases (qkv_bias must be true)");
    if (!c.rope_freq_factors.empty()) {
        if (c.arch != Arch::llama) return bad("rope_freq_factors are read by llama.cpp for arch llama only");
        if ((int) c.rope_freq_factors.size() * 2 != c.head_dim())
            return bad("rope_freq_factors has " + std::to_string(c.rope_freq_factors.size()) + " values, head size / 2 is " +
                       std::to_string(c.head_dim() / 2));
        for (float f : c.rope_freq_factors)
            if (!(f > 0.0f)) return bad("rope_freq_factors must be positive");
    }
    return ok_status();
}

Result<LlamaConfig> config_from_json(const nlohmann::json & j) {
    if (!j.is_object()) return make_error(Errc::invalid_argument, "config: expected a JSON object");
    LlamaConfig c;
    try {
        c.n_vocab         = j.value("n_vocab", c.n_vocab);
        c.n_ctx           = j.value("n_ctx", c.n_ctx);
        c.n_embd          = j.value("n_embd", c.n_embd);
        c.n_layer         = j.value("n_layer", c.n_layer);
        c.n_head          = j.value("n_head", c.n_head);
        c.n_head_kv       = j.value("n_head_kv", c.n_head);
        c.n_ff            = j.value("n_ff", c.n_ff);
        c.rms_eps         = j.value("rms_eps", c.rms_eps);
        c.rope_theta      = j.value("rope_theta", c.rope_theta);
        c.tied_embeddings = j.value("tied_embeddings", c.tied_embeddings);
        const std::string arch = j.value("arch", std::string(arch_name(c.arch)));
        const auto        known = arch_from_name(arch);
        if (!known) return make_error(Errc::invalid_argument, "config: unknown arch '" + arch + "' (llama, qwen2)");
        c.arch     = *known;
        c.qkv_bias = j.value("qkv_bias", c.arch == Arch::qwen2);
        c.rope_freq_factors = j.value("rope_freq_factors", c.rope_freq_factors);
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, std::string("config: ") + e.what());
    }
    auto st = validate_config(c);
    if (!st) return st.error();
    return c;
}

Result<LlamaConfig> load_config(const std::string & path) {
    std::ifstream in(path);
    if (!in) return make_error(Errc::not_found, "cannot open config " + path);
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, path + ": " + e.what());
    }
    return config_from_json(j);
}

Status save_config(const std::string & path, const LlamaConfig & c) {
    return write_text_atomic(path, config_to_json(c).dump(2) + "\n");
}

const std::vector<std::string> & lora_projection_names() {
    static const std::vector<std::string> names = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    return names;
}

nlohmann::json lora_to_json(const LoraParams & p) {
    return nlohmann::json{{"rank", p.rank}, {"alpha", p.alpha}, {"targets", p.targets}};
}

Status validate_lora(const LoraParams & p) {
    auto bad = [](const std::string & m) { return Status(make_error(Errc::invalid_argument, "lora: " + m)); };
    if (p.rank < 0) return bad("rank must be >= 0 (0: off)");
    if (!p.on()) return ok_status();
    if (!(p.alpha > 0.0)) return bad("alpha must be positive");
    if (p.targets.empty()) return bad("no target projections");
    const auto & known = lora_projection_names();
    for (size_t i = 0; i < p.targets.size(); ++i) {
        if (std::find(known.begin(), known.end(), p.targets[i]) == known.end())
            return bad("unknown target '" + p.targets[i] + "' (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down)");
        if (std::find(p.targets.begin(), p.targets.begin() + long(i), p.targets[i]) != p.targets.begin() + long(i))
            return bad("target '" + p.targets[i] + "' given twice");
    }
    return ok_status();
}

Result<LoraParams> lora_from_json(const nlohmann::json & j) {
    LoraParams p;
    if (j.is_null()) return p;
    if (!j.is_object()) return make_error(Errc::invalid_argument, "lora: expected a JSON object");
    try {
        p.rank    = j.value("rank", 0);
        p.alpha   = j.value("alpha", p.alpha);
        p.targets = j.value("targets", p.targets);
    } catch (const nlohmann::json::exception & e) {
        return make_error(Errc::invalid_argument, std::string("lora: ") + e.what());
    }
    if (auto st = validate_lora(p); !st) return st.error();
    return p;
}

int64_t parameter_count(const LlamaConfig & c) {
    const int64_t d = c.n_embd, hd = c.head_dim();
    const int64_t attn  = d * d * 2 + 2 * d * hd * c.n_head_kv  // q, output + k, v
                        + (c.qkv_bias ? d + 2 * hd * c.n_head_kv : 0);
    const int64_t ffn   = 3 * d * c.n_ff;
    const int64_t layer = attn + ffn + 2 * d;  // + attn_norm, ffn_norm
    const int64_t embd  = int64_t(c.n_vocab) * d;
    return embd * (c.tied_embeddings ? 1 : 2) + layer * c.n_layer + d;
}

}  // namespace grm::model
