// Transformer -> GGUF through grm::write_gguf_llama, and GGUF tensors -> Transformer.
#include "model/export.h"

#include "model/lora.h"

#include <map>

namespace grm::model {

Result<GgufLlamaModel> to_gguf_model(TransformerImpl & model, const Vocab & vocab, const std::string & name,
                                     bool merge_lora) {
    const auto & c = model.config();
    if (int(vocab.pieces.size()) != c.n_vocab)
        return make_error(Errc::invalid_argument, "vocab has " + std::to_string(vocab.pieces.size()) +
                                                      " pieces but the model's n_vocab is " + std::to_string(c.n_vocab));
    if (model.named_parameters().find("score.weight") != nullptr)
        return make_error(Errc::invalid_argument, "a scalar-head model has no GGUF form");
    GgufLlamaModel m;
    m.name          = name;
    m.config        = c;
    m.vocab         = vocab;
    m.chat_template = k_chatml_template;
    torch::NoGradGuard no_grad;
    // LoRA adapters merged into their weights (W + alpha/r B A): a plain model of the same config.
    for (const auto & [name, value] : base_parameters(model, merge_lora)) {
        // Parameter names are GGUF names already; a Linear weight [out, in] is ggml's [in, out].
        auto        t = value.to(torch::kCPU, torch::kFloat32).contiguous();
        NamedTensor nt;
        nt.name  = name;
        nt.shape = t.sizes().vec();
        nt.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        m.tensors.push_back(std::move(nt));
    }
    return m;
}

Status export_gguf(TransformerImpl & model, const Vocab & vocab, const std::string & path, GgufType type,
                   const std::string & name, bool merge_lora) {
    auto m = to_gguf_model(model, vocab, name, merge_lora);
    if (!m) return m.error();
    return write_gguf_llama(path, *m, type);
}

Status load_gguf_weights(const GgufLlamaModel & m, torch::nn::Module & model) {
    std::map<std::string, const NamedTensor *> by_name;
    for (const auto & t : m.tensors) by_name[t.name] = &t;
    auto params = model.named_parameters();
    for (const auto & p : params) {  // check everything before changing anything
        auto it = by_name.find(p.key());
        if (it == by_name.end()) return make_error(Errc::invalid_argument, "the GGUF model has no tensor '" + p.key() + "'");
        if (it->second->shape != p.value().sizes().vec())
            return make_error(Errc::invalid_argument, "tensor '" + p.key() + "' is " +
                                                          c10::str(torch::IntArrayRef(it->second->shape)) +
                                                          " in the GGUF model, the model expects " + c10::str(p.value().sizes()));
    }
    for (const auto & t : m.tensors) {
        if (params.find(t.name) == nullptr)
            return make_error(Errc::invalid_argument, "the GGUF model has a tensor grm's model does not: '" + t.name + "'");
    }
    torch::NoGradGuard no_grad;
    for (auto & p : params) {
        const NamedTensor & t = *by_name.at(p.key());
        p.value().copy_(torch::from_blob(const_cast<float *>(t.data.data()), p.value().sizes(), torch::kFloat32));
    }
    return ok_status();
}

}  // namespace grm::model
