// Each `grm` subcommand lives in its own cmd_<name>.cpp and registers itself on the CLI app here.
#pragma once

#include <CLI/CLI.hpp>

namespace grm::cli {

void register_score(CLI::App & app);
void register_eval(CLI::App & app);
void register_train(CLI::App & app);
void register_export(CLI::App & app);
void register_tokenize(CLI::App & app);
void register_import(CLI::App & app);
void register_serve(CLI::App & app);
void register_world(CLI::App & app);
void register_rl(CLI::App & app);
void register_rl_export(CLI::App & rl_cmd);  // `grm rl export`, under `grm rl`
void register_meta(CLI::App & app);
void register_bt(CLI::App & app);
void register_data(CLI::App & app);
void register_rft(CLI::App & app);

}  // namespace grm::cli
