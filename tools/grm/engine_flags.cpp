// Engine, sampling and judging flags shared by the judging subcommands.
#include "engine_flags.h"

namespace grm::cli {

LoraAdapterSpec parse_lora_flag(const std::string & value) {
    // The part after the last ':' is a scale only when it is a whole number; otherwise it belongs to the path.
    const size_t colon = value.rfind(':');
    if (colon != std::string::npos && colon + 1 < value.size()) {
        try {
            size_t      used  = 0;
            const float scale = std::stof(value.substr(colon + 1), &used);
            if (used == value.size() - colon - 1) return {value.substr(0, colon), scale};
        } catch (const std::exception &) {
        }
    }
    return {value, 1.0f};
}

// Upstream-server flags carry "upstream" where a bare name would be ambiguous in `grm serve`, whose
// own --api-key guards grm itself; every subcommand spells them the same way.
void add_engine_flags(CLI::App & cmd, EngineOptions & o, bool reproducible) {
    LlamaEngineParams &  l = o.llama;
    OpenAIEngineParams & u = o.openai;
    cmd.add_option("-m,--model", o.model, "GGUF file, or OpenAI-compatible server URL(s) (comma-separated); default: the embedded model");
    cmd.add_option("--ctx", l.n_ctx_seq, "per-sequence context in tokens (llama.cpp; 0 = the model's, as far as a quarter of the memory holds its KV cache)")->capture_default_str();
    cmd.add_option("--threads", l.threads, "CPU threads (llama.cpp; 0 = all)")->capture_default_str();
    cmd.add_option("--kv-size", l.kv_size, "KV cache cells shared by all sequences (llama.cpp; 0 = max(16 x context, 8192), within a quarter of the memory)")->capture_default_str();
    cmd.add_option("--draft-max", l.draft_max,
                   "speculative decoding from the prompt: tokens drafted per sequence and step from an earlier occurrence of "
                   "its last 2-4 tokens, kept only where they equal the sample (the output is unchanged; 0 = off; llama.cpp)")
        ->capture_default_str();
    cmd.add_flag("!--no-exact-attention", l.exact_attention,
                 "decode attention and matmuls by llama.cpp's own kernels (attention over every occupied KV cell), not by "
                 "grm's (over the cells each sample sees; weights streamed once per step) (llama.cpp; the same output, to "
                 "float rounding; slower)");
    cmd.add_option("--n-seq-max", l.n_seq_max, "sequence slots: samples decoded together in a wave (at most half) plus the cached prompts restored for them (llama.cpp)")->capture_default_str();
    if (reproducible) {
        l.prefix_cache = false;
        cmd.add_flag("--prefix-cache", l.prefix_cache,
                     "also reuse prompt prefixes across inputs (llama.cpp; faster, but a judgment may then depend on what ran "
                     "before it, so a resumed run can differ from a straight one)");
    } else {
        cmd.add_flag("!--no-prefix-cache", l.prefix_cache,
                     "share prompt prefixes only among one input's k samples, never across inputs (llama.cpp; reproducible: a "
                     "judgment then depends only on its seed, input and batch)");
    }
    cmd.add_option("--lora", "LoRA adapter GGUF for the llama.cpp model, optionally with its scale (PATH[:SCALE], default 1; "
                              "repeatable; e.g. from grm export --lora-adapter)")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->each([&l](const std::string & v) { l.lora.push_back(parse_lora_flag(v)); });
    cmd.add_option("--api", "chat (/v1/chat/completions) or completions (/v1/completions) upstream; default chat")
        ->check(CLI::IsMember({ "chat", "completions" }))
        ->each([&u](const std::string & v) { u.chat = v == "chat"; });
    cmd.add_option("--upstream-api-key", u.api_key, "bearer token sent to the upstream server");
    cmd.add_option("--served-model", u.model, "the 'model' field sent upstream");
    cmd.add_option("--upstream-timeout", u.timeout_s, "per-request timeout in seconds (upstream)")->capture_default_str();
    cmd.add_option("--retries", u.max_retries, "retries on 5xx/429/connection errors (upstream)")->capture_default_str();
    cmd.add_option("--upstream-max-n", u.max_n, "cap on n per upstream request (0 = learn from refusals)")->capture_default_str();
    cmd.add_option("--concurrency", u.concurrency, "requests in flight per upstream endpoint")->capture_default_str();
}

void add_sampling_flags(CLI::App & cmd, SamplingParams & s) {
    cmd.add_option("-t,--temperature", s.temperature, "sampling temperature (0 = greedy)")->capture_default_str();
    cmd.add_option("--top-p", s.top_p, "nucleus sampling")->capture_default_str();
    cmd.add_option("--top-k", s.top_k, "top-k sampling (0 = off)")->capture_default_str();
    cmd.add_option("--max-tokens", s.max_tokens, "generated tokens per sample")->capture_default_str();
}

void add_judge_flags(CLI::App & cmd, JudgeFlags & f, JudgeParams & p, bool meta) {
    cmd.add_option("--template", f.template_file, "prompt template file (docs/templates.md)");
    cmd.add_flag("--no-principles", f.no_principles, "analysis and scores only (the ablation)");
    cmd.add_flag("--raw", f.raw, "do not wrap the prompt in the model's chat template");
    cmd.add_flag("--no-shuffle", f.no_shuffle, "show responses in their given order in every sample");
    cmd.add_flag("--clip-scores", p.clip_scores,
                 "move integer scores outside 1..10 to the nearest end (the DeepSeek-GRM model card's code) "
                 "instead of reporting the sample unscorable");
    cmd.add_flag("--binary-single", p.binary_single,
                 "judge one response with the template's 0/1 variant (the paper's training format for single "
                 "responses): scores 0 or 1, right when equal to the sample's label");
    if (!meta) return;
    cmd.add_option("--meta", f.meta,
                   "meta RM GGUF with its .head.json, or `default` (the default model's): meta-scores every "
                   "sample and votes the top --k-meta");
    cmd.add_option("--k-meta", p.k_meta, "samples the meta RM keeps (0: k/2)")->capture_default_str();
}

Status apply_judge_flags(const JudgeFlags & f, JudgeParams & p) {
    if (!f.template_file.empty()) {
        if (f.no_principles) return make_error(Errc::invalid_argument, "--template and --no-principles: give one");
        auto t = load_template(f.template_file);
        if (!t) return t.error();
        p.prompt = *t;
    } else {
        p.prompt = default_template(!f.no_principles);
    }
    if (p.binary_single && p.prompt.binary.empty()) {
        return make_error(Errc::invalid_argument, "--binary-single: the template '" + f.template_file + "' has no === binary === section");
    }
    if (p.k_meta > 0 && f.meta.empty()) {
        return make_error(Errc::invalid_argument, "--k-meta needs a meta RM (--meta PATH or --meta default)");
    }
    p.chat    = !f.raw;
    p.shuffle = !f.no_shuffle;
    return ok_status();
}

Result<std::unique_ptr<scaling::LlamaMetaScorer>> load_meta_flag(const JudgeFlags & f, int threads) {
    if (f.meta.empty()) return std::unique_ptr<scaling::LlamaMetaScorer>();
    return scaling::LlamaMetaScorer::load(resolve_meta_path(f.meta), threads);
}

}  // namespace grm::cli
