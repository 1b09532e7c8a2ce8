// Transformer -> GGUF through grm::write_gguf_llama.
#include "model/export.h"

namespace grm::model {

Result<GgufLlamaModel> to_gguf_model(TransformerImpl & model, const Vocab & vocab, const std::string & name) {
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
    for (const auto & p : model.named_parameters()) {
        // Parameter names are GGUF names already; a Linear weight [out, in] is ggml's [in, out].
        auto        t = p.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
        NamedTensor nt;
        nt.name  = p.key();
        nt.shape = t.sizes().vec();
        nt.data.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        m.tensors.push_back(std::move(nt));
    }
    return m;
}

Status export_gguf(TransformerImpl & model, const Vocab & vocab, const std::string & path, GgufType type,
                   const std::string & name) {
    auto m = to_gguf_model(model, vocab, name);
    if (!m) return m.error();
    return write_gguf_llama(path, *m, type);
}

}  // namespace grm::model
