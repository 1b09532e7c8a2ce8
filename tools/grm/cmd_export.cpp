// `grm export`: writes a trained checkpoint as a GGUF of its architecture (llama or qwen2; f32 or f16)
// that llama.cpp loads; a LoRA checkpoint merged, or as a llama.cpp LoRA adapter GGUF (+ its base).
#include "commands.h"

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/export.h"
#include "model/lora.h"
#include "model/vocab_file.h"

#include <cstdio>
#include <memory>

namespace grm::cli {

namespace {

struct ExportArgs {
    std::string checkpoint, vocab, out, type = "f32", name = "grm", lora_adapter, lora_base;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm export: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(const ExportArgs & a) {
    if (a.out.empty() && a.lora_adapter.empty() && a.lora_base.empty())
        return fail(make_error(Errc::invalid_argument, "nothing to write: give -o, --lora-adapter or --lora-base"));
    auto dir = model::resolve_checkpoint(a.checkpoint);
    if (!dir) return fail(dir.error());
    auto meta = model::read_checkpoint_meta(*dir);
    if (!meta) return fail(meta.error());
    if (meta->kind != "lm")
        return fail(make_error(Errc::invalid_argument, *dir + " holds a '" + meta->kind + "' model; only LMs export"));
    if (!meta->lora.on() && (!a.lora_adapter.empty() || !a.lora_base.empty()))
        return fail(make_error(Errc::invalid_argument, *dir + " was not trained with LoRA (--lora-rank): no adapter to write"));

    model::Transformer net(meta->config);
    if (meta->lora.on()) net->add_lora(meta->lora, 0);
    if (auto st = model::load_checkpoint_model(*dir, *net); !st) return fail(st.error());
    const auto type = a.type == "f16" ? GgufType::f16 : GgufType::f32;
    // A model file needs the vocab; the adapter does not.
    auto model_file = [&](const std::string & path, bool merged) -> Status {
        if (a.vocab.empty()) return make_error(Errc::invalid_argument, "--vocab is required to write a model (" + path + ")");
        auto vocab = model::load_vocab(a.vocab);
        if (!vocab) return vocab.error();
        return model::export_gguf(*net, *vocab, path, type, a.name, merged);
    };
    if (!a.out.empty()) {
        if (auto st = model_file(a.out, /*merged=*/true); !st) return fail(st.error());
        std::fprintf(stderr, "grm export: %s (step %lld, %lld parameters, %s%s) -> %s\n", dir->c_str(), (long long) meta->step,
                     (long long) model::parameter_count(meta->config), a.type.c_str(),
                     meta->lora.on() ? ", LoRA merged" : "", a.out.c_str());
    }
    if (!a.lora_base.empty()) {
        if (auto st = model_file(a.lora_base, /*merged=*/false); !st) return fail(st.error());
        std::fprintf(stderr, "grm export: the frozen base of %s (%s) -> %s\n", dir->c_str(), a.type.c_str(), a.lora_base.c_str());
    }
    if (!a.lora_adapter.empty()) {
        if (auto st = model::export_lora_adapter(*net, a.lora_adapter); !st) return fail(st.error());
        std::fprintf(stderr, "grm export: LoRA adapter of %s (rank %d, alpha %g, f32) -> %s\n", dir->c_str(), meta->lora.rank,
                     meta->lora.alpha, a.lora_adapter.c_str());
    }
    return 0;
}

}  // namespace

void register_export(CLI::App & app) {
    auto   a   = std::make_shared<ExportArgs>();
    auto * cmd = app.add_subcommand("export", "write a trained checkpoint as a GGUF for llama.cpp / llama-server");
    cmd->add_option("--checkpoint", a->checkpoint, "a run directory (its latest checkpoint) or a checkpoint directory")->required();
    cmd->add_option("--vocab", a->vocab, "tokenizer: a GGUF with a llama vocab, or a JSON of pieces/scores/types (for -o, --lora-base)");
    cmd->add_option("-o,--out", a->out, "output .gguf (a LoRA checkpoint: its adapters merged into the weights)");
    cmd->add_option("--lora-adapter", a->lora_adapter,
                    "LoRA checkpoint: write its adapters as a llama.cpp LoRA adapter GGUF (f32) for `--lora` on its base model");
    cmd->add_option("--lora-base", a->lora_base,
                    "LoRA checkpoint: write its frozen base weights as a GGUF (the model --lora-adapter applies to)");
    cmd->add_option("--type", a->type, "weight type")->check(CLI::IsMember({"f32", "f16"}))->capture_default_str();
    cmd->add_option("--name", a->name, "general.name in the GGUF")->capture_default_str();
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
