// Engine and sampling flags shared by the judging subcommands.
#include "engine_flags.h"

namespace grm::cli {

// Upstream-server flags carry "upstream" where a bare name would be ambiguous in `grm serve`, whose
// own --api-key guards grm itself; every subcommand spells them the same way.
void add_engine_flags(CLI::App & cmd, EngineOptions & o, bool reproducible) {
    LlamaEngineParams &  l = o.llama;
    OpenAIEngineParams & u = o.openai;
    cmd.add_option("-m,--model", o.model, "GGUF file, or OpenAI-compatible server URL(s) (comma-separated); default: the embedded model");
    cmd.add_option("--ctx", l.n_ctx_seq, "per-sequence context in tokens (llama.cpp; 0 = the model's)")->capture_default_str();
    cmd.add_option("--threads", l.threads, "CPU threads (llama.cpp; 0 = all)")->capture_default_str();
    cmd.add_option("--kv-size", l.kv_size, "KV cache cells shared by all sequences (llama.cpp; 0 = max(16 x context, 8192))")->capture_default_str();
    cmd.add_option("--n-seq-max", l.n_seq_max, "sequence slots: samples decoded together plus cached prompts (llama.cpp)")->capture_default_str();
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

}  // namespace grm::cli
