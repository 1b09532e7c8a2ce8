// `grm import`: turns a raw parameter directory (model/torch_exchange.h), e.g. the output of
// scripts/train_torch.py, or an f32/f16 llama or qwen2 GGUF (grm's own exports, a user's small
// model) into a grm checkpoint that export, train --init, rl, meta and bt take.
#include "commands.h"

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/export.h"
#include "model/torch_exchange.h"
#include "model/transformer.h"

#include <cstdio>
#include <filesystem>
#include <memory>

namespace grm::cli {

namespace {

struct ImportArgs {
    std::string params, gguf, out;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm import: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

// The model described by a raw parameter directory or a GGUF file, with its weights.
Result<model::Transformer> load(const ImportArgs & a) {
    if (!a.params.empty()) {
        auto cfg = model::read_raw_params_config(a.params);
        if (!cfg) return cfg.error();
        model::Transformer net(*cfg);
        if (auto st = model::load_raw_params(a.params, *net); !st) return st.error();
        return net;
    }
    auto m = read_gguf_llama(a.gguf);
    if (!m) return m.error();
    if (auto st = model::validate_config(m->config); !st) return make_error(Errc::invalid_argument, a.gguf + ": " + st.error().message);
    model::Transformer net(m->config);
    if (auto st = model::load_gguf_weights(*m, *net); !st) return make_error(Errc::invalid_argument, a.gguf + ": " + st.error().message);
    return net;
}

int run(const ImportArgs & a) {
    namespace fs = std::filesystem;
    if (a.params.empty() && a.gguf.empty()) return fail(make_error(Errc::invalid_argument, "give --params DIR or --gguf FILE"));
    auto net     = load(a);
    if (!net) return fail(net.error());
    const LlamaConfig cfg = (*net)->config();
    const std::string src = a.params.empty() ? a.gguf : a.params;
    model::CheckpointMeta meta;
    meta.config        = cfg;
    meta.train_options = {{"imported_from", fs::absolute(src).string()}};
    const std::string name = "step-0000000";
    if (auto st = model::save_checkpoint((fs::path(a.out) / name).string(), **net, nullptr, meta); !st) return fail(st.error());
    if (auto st = model::save_config((fs::path(a.out) / "config.json").string(), cfg); !st) return fail(st.error());
    if (auto st = model::set_latest(a.out, name); !st) return fail(st.error());
    std::fprintf(stderr, "grm import: %s (%lld parameters) -> %s/%s\n", src.c_str(),
                 (long long) model::parameter_count(cfg), a.out.c_str(), name.c_str());
    return 0;
}

}  // namespace

void register_import(CLI::App & app) {
    auto   a   = std::make_shared<ImportArgs>();
    auto * cmd = app.add_subcommand("import", "make a grm checkpoint from raw PyTorch parameters or an f32/f16 llama/qwen2 GGUF");
    auto * params = cmd->add_option("--params", a->params, "directory with manifest.json and weights.bin (scripts/train_torch.py)");
    auto * gguf   = cmd->add_option("--gguf", a->gguf, "llama- or qwen2-architecture GGUF with f32/f16 weights (e.g. a grm export)");
    params->excludes(gguf);
    gguf->excludes(params);
    cmd->add_option("-o,--out", a->out, "run directory to create (checkpoint step-0000000, latest, config.json)")->required();
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
