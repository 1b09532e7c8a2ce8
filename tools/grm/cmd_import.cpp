// `grm import`: turns a raw parameter directory (model/torch_exchange.h), e.g. the output of
// scripts/train_torch.py, into a grm checkpoint that export, train --init and rl take.
#include "commands.h"

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/torch_exchange.h"
#include "model/transformer.h"

#include <cstdio>
#include <filesystem>
#include <memory>

namespace grm::cli {

namespace {

struct ImportArgs {
    std::string params, out;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm import: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(const ImportArgs & a) {
    namespace fs = std::filesystem;
    auto cfg     = model::read_raw_params_config(a.params);
    if (!cfg) return fail(cfg.error());
    model::Transformer net(*cfg);
    if (auto st = model::load_raw_params(a.params, *net); !st) return fail(st.error());
    model::CheckpointMeta meta;
    meta.config        = *cfg;
    meta.train_options = {{"imported_from", fs::absolute(a.params).string()}};
    const std::string name = "step-0000000";
    if (auto st = model::save_checkpoint((fs::path(a.out) / name).string(), *net, nullptr, meta); !st) return fail(st.error());
    if (auto st = model::save_config((fs::path(a.out) / "config.json").string(), *cfg); !st) return fail(st.error());
    if (auto st = model::set_latest(a.out, name); !st) return fail(st.error());
    std::fprintf(stderr, "grm import: %s (%lld parameters) -> %s/%s\n", a.params.c_str(),
                 (long long) model::parameter_count(*cfg), a.out.c_str(), name.c_str());
    return 0;
}

}  // namespace

void register_import(CLI::App & app) {
    auto   a   = std::make_shared<ImportArgs>();
    auto * cmd = app.add_subcommand("import", "make a grm checkpoint from raw PyTorch parameters (manifest.json + weights.bin)");
    cmd->add_option("--params", a->params, "directory with manifest.json and weights.bin")->required();
    cmd->add_option("-o,--out", a->out, "run directory to create (checkpoint step-0000000, latest, config.json)")->required();
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
