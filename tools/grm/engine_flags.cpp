// Engine and sampling flags shared by the judging subcommands.
#include "engine_flags.h"

namespace grm::cli {

void add_engine_flags(CLI::App & cmd, EngineOptions & o, bool reproducible) {
    cmd.add_option("-m,--model", o.model, "GGUF file, or OpenAI-compatible server URL(s) (comma-separated); default: the embedded model");
    cmd.add_option("--ctx", o.n_ctx, "per-sequence context in tokens (llama.cpp; 0 = the model's)");
    cmd.add_option("--threads", o.threads, "CPU threads (llama.cpp; 0 = all)");
    cmd.add_option("--kv-size", o.kv_size, "KV cache cells shared by all sequences (llama.cpp; 0 = 16 x context)");
    if (reproducible) {
        o.prefix_cache = false;
        cmd.add_flag("--prefix-cache", o.prefix_cache,
                     "also reuse prompt prefixes across inputs (llama.cpp; faster, but a judgment may then depend on what ran "
                     "before it, so a resumed run can differ from a straight one)");
    } else {
        cmd.add_flag("!--no-prefix-cache", o.prefix_cache,
                     "share prompt prefixes only among one input's k samples, never across inputs (llama.cpp; reproducible: a "
                     "judgment then depends only on its seed, input and batch)");
    }
    cmd.add_option("--api", o.api, "chat or completions (servers)")->check(CLI::IsMember({ "chat", "completions" }));
    cmd.add_option("--api-key", o.api_key, "bearer token for the server");
    cmd.add_option("--served-model", o.served_model, "the 'model' field sent to the server");
    cmd.add_option("--timeout", o.timeout_s, "per-request timeout in seconds (servers)");
    cmd.add_option("--retries", o.max_retries, "retries on 5xx/429/connection errors (servers)");
    cmd.add_option("--max-n", o.max_n, "cap on n per request (servers; 0 = learn from refusals)");
    cmd.add_option("--concurrency", o.concurrency, "requests in flight per endpoint (servers)");
}

void add_sampling_flags(CLI::App & cmd, SamplingParams & s) {
    cmd.add_option("-t,--temperature", s.temperature, "sampling temperature (0 = greedy)")->capture_default_str();
    cmd.add_option("--top-p", s.top_p, "nucleus sampling")->capture_default_str();
    cmd.add_option("--top-k", s.top_k, "top-k sampling (0 = off)")->capture_default_str();
    cmd.add_option("--max-tokens", s.max_tokens, "generated tokens per sample")->capture_default_str();
}

}  // namespace grm::cli
