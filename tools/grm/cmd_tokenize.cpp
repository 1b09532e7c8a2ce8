// `grm tokenize`: writes training data as a token file (model/torch_exchange.h) for a PyTorch
// trainer such as scripts/train_torch.py, tokenized exactly as `grm train` tokenizes it.
#include "commands.h"

#include "llama/llama_model.h"
#include "model/torch_exchange.h"

#include <cstdio>
#include <memory>

namespace grm::cli {

namespace {

struct TokenizeArgs {
    std::string data, vocab, out;
};

int fail(const Error & e) {
    std::fprintf(stderr, "grm tokenize: %s\n", e.to_string().c_str());
    return e.code == Errc::invalid_argument || e.code == Errc::not_found ? 2 : 1;
}

int run(const TokenizeArgs & a) {
    auto tok = LlamaModel::load(a.vocab, /*vocab_only=*/true);
    if (!tok) return fail(tok.error());
    model::TokenizeStats ts;
    auto                 examples = model::load_examples(a.data, **tok, &ts);
    if (!examples) return fail(examples.error());
    if (auto st = model::write_token_file(a.out, *examples, (*tok)->n_vocab()); !st) return fail(st.error());
    std::fprintf(stderr, "grm tokenize: %lld examples, %lld tokens (%lld re-tokenized at the prompt boundary) -> %s\n",
                 (long long) ts.examples, (long long) ts.tokens, (long long) ts.boundary_retoken, a.out.c_str());
    return 0;
}

}  // namespace

void register_tokenize(CLI::App & app) {
    auto   a   = std::make_shared<TokenizeArgs>();
    auto * cmd = app.add_subcommand("tokenize", "write training data as a token file for a PyTorch trainer");
    cmd->add_option("--data", a->data, "what grm train takes: .jsonl {\"prompt\",\"completion\"} or {\"text\"}, or plain text")->required();
    cmd->add_option("--vocab", a->vocab, "GGUF holding the tokenizer (vocab-only or a model)")->required();
    cmd->add_option("-o,--out", a->out, "output token file")->required();
    cmd->callback([a]() { std::exit(run(*a)); });
}

}  // namespace grm::cli
