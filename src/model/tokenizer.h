// Text -> token ids through llama.cpp's tokenizer (a vocab-only GGUF load), the one tokenizer every
// process that links libtorch uses (SentencePiece itself must stay out of those processes).
#pragma once

#include "core/error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct llama_model;
struct llama_vocab;

namespace grm::model {

class Tokenizer {
  public:
    // Loads only the vocabulary of a GGUF (model or vocab-only file).
    static Result<std::unique_ptr<Tokenizer>> load(const std::string & gguf_path);
    ~Tokenizer();
    Tokenizer(const Tokenizer &)             = delete;
    Tokenizer & operator=(const Tokenizer &) = delete;

    // add_special: prepend BOS when the vocab says so; parse_special: "<|im_start|>" etc. in the
    // text become their control tokens (what chat prompts need).
    std::vector<int32_t> tokenize(const std::string & text, bool add_special, bool parse_special = true) const;
    std::string          detokenize(const std::vector<int32_t> & ids, bool render_special = true) const;

    int32_t n_vocab() const;
    int32_t bos() const;
    int32_t eos() const;
    // Id of a piece (e.g. "<|im_end|>"), or -1.
    int32_t find_piece(const std::string & piece) const;

  private:
    Tokenizer() = default;
    llama_model *       model_ = nullptr;
    const llama_vocab * vocab_ = nullptr;
};

}  // namespace grm::model
