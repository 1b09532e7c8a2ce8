// grm: score, evaluate, train and serve generative reward models.
#include "commands.h"

int main(int argc, char ** argv) {
    CLI::App app{ "grm: generalist generative reward models (SPCT / DeepSeek-GRM)" };
    app.require_subcommand(1);
    app.set_version_flag("--version", "grm 0.1");
    grm::cli::register_score(app);
    grm::cli::register_eval(app);
    grm::cli::register_train(app);
    grm::cli::register_export(app);
    grm::cli::register_tokenize(app);
    grm::cli::register_import(app);
    grm::cli::register_serve(app);
    grm::cli::register_world(app);
    grm::cli::register_rl(app);
    grm::cli::register_meta(app);
    grm::cli::register_bt(app);
    grm::cli::register_data(app);
    grm::cli::register_rft(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError & e) {
        return app.exit(e);
    }
    return 0;
}
