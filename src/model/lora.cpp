// LoRA merge, plain-model loading and adapter export.
#include "model/lora.h"

#include "model/checkpoint.h"

#include <map>

namespace grm::model {

bool is_lora_parameter(const std::string & name) {
    auto ends = [&](const char * s) {
        const std::string suffix(s);
        return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends(".lora_a") || ends(".lora_b");
}

std::vector<std::pair<std::string, torch::Tensor>> base_parameters(TransformerImpl & m, bool merged) {
    torch::NoGradGuard no_grad;
    const auto         all = m.named_parameters();
    std::vector<std::pair<std::string, torch::Tensor>> out;
    const double scale = m.lora().on() ? m.lora().scale() : 0.0;
    for (const auto & p : all) {
        if (is_lora_parameter(p.key())) continue;
        auto t = p.value().detach();
        const std::string suffix = ".weight";
        if (merged && m.lora().on() && p.key().size() > suffix.size() &&
            p.key().compare(p.key().size() - suffix.size(), suffix.size(), suffix) == 0) {
            const std::string stem = p.key().substr(0, p.key().size() - suffix.size());
            const auto *      a    = all.find(stem + ".lora_a");
            const auto *      b    = all.find(stem + ".lora_b");
            if (a != nullptr && b != nullptr) t = t + torch::matmul(*b, *a) * scale;  // [out, r] x [r, in]
        }
        out.emplace_back(p.key(), t);
    }
    return out;
}

Result<Transformer> load_merged_lm(const std::string & dir) {
    auto meta = read_checkpoint_meta(dir);
    if (!meta) return meta.error();
    if (meta->kind != "lm") return make_error(Errc::invalid_argument, dir + ": a " + meta->kind + " checkpoint, not an lm one");
    Transformer plain(meta->config);
    if (!meta->lora.on()) {
        if (auto st = load_checkpoint_model(dir, *plain); !st) return st.error();
        return plain;
    }
    Transformer adapted(meta->config);
    adapted->add_lora(meta->lora, 0);
    if (auto st = load_checkpoint_model(dir, *adapted); !st) return st.error();
    torch::NoGradGuard no_grad;
    auto               dst = plain->named_parameters();
    for (const auto & [name, t] : base_parameters(*adapted, /*merged=*/true)) dst[name].copy_(t);
    return plain;
}

Result<GgufLoraAdapter> to_gguf_lora(TransformerImpl & m) {
    if (!m.lora().on()) return make_error(Errc::invalid_argument, "the model has no LoRA adapters");
    GgufLoraAdapter out;
    out.arch  = arch_name(m.config().arch);
    out.alpha = float(m.lora().alpha);
    torch::NoGradGuard no_grad;
    for (const auto & p : m.named_parameters()) {
        if (!is_lora_parameter(p.key())) continue;
        // blk.N.attn_q.lora_a -> blk.N.attn_q.weight.lora_a: the adapted tensor's GGUF name + suffix
        const std::string & k = p.key();
        auto        t = p.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
        NamedTensor nt;
        nt.name  = k.substr(0, k.size() - 7) + ".weight" + k.substr(k.size() - 7);
        nt.shape = t.sizes().vec();
        nt.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        out.tensors.push_back(std::move(nt));
    }
    return out;
}

Status export_lora_adapter(TransformerImpl & m, const std::string & path) {
    auto a = to_gguf_lora(m);
    if (!a) return a.error();
    return write_gguf_lora(path, *a);
}

}  // namespace grm::model
