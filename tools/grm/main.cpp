// grm: score, evaluate, train and serve generative reward models.
#include "commands.h"

int main(int argc, char ** argv) {
    CLI::App app{ "grm: generalist generative reward models (SPCT / DeepSeek-GRM)" };
    app.require_subcommand(1);
    app.set_version_flag("--version", "grm 0.1");
#ifdef GRM_HAS_SCORE
    grm::cli::register_score(app);
#endif
#ifdef GRM_HAS_EVAL
    grm::cli::register_eval(app);
#endif
#ifdef GRM_HAS_TRAIN
    grm::cli::register_train(app);
#endif
#ifdef GRM_HAS_EXPORT
    grm::cli::register_export(app);
#endif
#ifdef GRM_HAS_SERVE
    grm::cli::register_serve(app);
#endif
#ifdef GRM_HAS_WORLD
    grm::cli::register_world(app);
#endif
#ifdef GRM_HAS_RL
    grm::cli::register_rl(app);
#endif
#ifdef GRM_HAS_META
    grm::cli::register_meta(app);
#endif
#ifdef GRM_HAS_BT
    grm::cli::register_bt(app);
#endif
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError & e) {
        return app.exit(e);
    }
    return 0;
}
