// `grm export`: writes a trained checkpoint as a GGUF of its architecture (llama or qwen2; f32 or f16)
// that llama.cpp loads.
#include "commands.h"

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/export.h"
#include "model/vocab_file.h"

#include <cstdio>
#include <memory>

namespace grm::cli {

namespace {

struct ExportArgs {
    std::string checkpoint, vocab, out, type = "f32", name = "grm";
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm export: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(const ExportArgs & a) {
    auto dir = model::resolve_checkpoint(a.checkpoint);
    if (!dir) return fail(dir.error());
    auto meta = model::read_checkpoint_meta(*dir);
    if (!meta) return fail(meta.error());
    if (meta->kind != "lm")
        return fail(make_error(Errc::invalid_argument, *dir + " holds a '" + meta->kind + "' model; only LMs export"));
    auto vocab = model::load_vocab(a.vocab);
    if (!vocab) return fail(vocab.error());

    model::Transformer net(meta->config);
    if (auto st = model::load_checkpoint_model(*dir, *net); !st) return fail(st.error());
    const auto type = a.type == "f16" ? GgufType::f16 : GgufType::f32;
    if (auto st = model::export_gguf(*net, *vocab, a.out, type, a.name); !st) return fail(st.error());
    std::fprintf(stderr, "grm export: %s (step %lld, %lld parameters, %s) -> %s\n", dir->c_str(),
                 (long long) meta->step, (long long) model::parameter_count(meta->config), a.type.c_str(), a.out.c_str());
    return 0;
}

}  // namespace

void register_export(CLI::App & app) {
    auto   a   = std::make_shared<ExportArgs>();
    auto * cmd = app.add_subcommand("export", "write a trained checkpoint as a GGUF for llama.cpp / llama-server");
    cmd->add_option("--checkpoint", a->checkpoint, "a run directory (its latest checkpoint) or a checkpoint directory")->required();
    cmd->add_option("--vocab", a->vocab, "tokenizer: a GGUF with a llama vocab, or a JSON of pieces/scores/types")->required();
    cmd->add_option("-o,--out", a->out, "output .gguf")->required();
    cmd->add_option("--type", a->type, "weight type")->check(CLI::IsMember({"f32", "f16"}))->capture_default_str();
    cmd->add_option("--name", a->name, "general.name in the GGUF")->capture_default_str();
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
