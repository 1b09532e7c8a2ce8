// LoRA flags shared by the training subcommands.
#include "lora_flags.h"

namespace grm::cli {

void add_lora_flags(CLI::App & cmd, model::LoraParams & p) {
    cmd.add_option("--lora-rank", p.rank,
                   "LoRA: train rank-R adapters on the projections instead of the weights (0: off; base frozen, "
                   "kept for --resume; docs/lora.md)")
        ->capture_default_str();
    cmd.add_option("--lora-alpha", p.alpha, "LoRA: the adapters' scale is alpha / rank")->capture_default_str();
    cmd.add_option("--lora-targets", p.targets, "LoRA: projections with adapters (default all: attn_q attn_k attn_v "
                                                "attn_output ffn_gate ffn_up ffn_down)")
        ->delimiter(',');
}

Result<model::LoraParams> run_lora(const CLI::App & cmd, const model::LoraParams & given, bool resume,
                                   const model::CheckpointMeta & resumed) {
    if (resume) {
        for (const char * f : {"--lora-rank", "--lora-alpha", "--lora-targets"})
            if (cmd.count(f) > 0)
                return make_error(Errc::invalid_argument, std::string(f) + " is the run's own: --resume keeps the checkpoint's");
        return resumed.lora;
    }
    if (auto st = model::validate_lora(given); !st) return st.error();
    return given;
}

}  // namespace grm::cli
