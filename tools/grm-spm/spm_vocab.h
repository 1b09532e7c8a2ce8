// SentencePiece <-> grm: training a BPE tokenizer with the settings llama.cpp reproduces exactly,
// converting its vocabulary to the GGUF "llama" vocab, and encoding text to reference ids.
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"

#include <string>
#include <vector>

namespace grm::spm {

// Markers every grm vocab carries as user-defined pieces: SentencePiece always matches them as
// one piece, and llama.cpp does the same (with parse_special), so chat prompts tokenize alike.
extern const std::vector<std::string> k_special_pieces;

struct TrainOptions {
    std::string input;         // text, one sentence per line
    std::string model_prefix;  // writes PREFIX.model and PREFIX.vocab
    int         vocab_size  = 2000;
    int         threads     = 1;
    long        max_lines   = 0;  // 0: all lines
    bool        single_chars = false;  // every piece one character: letters never merge
};

Status train_bpe(const TrainOptions & o);

// The n most frequent words of a text (the first max_lines lines; 0: all), for whole-word pieces
// over a single-character model: runs of 2+ letters after a space (kept with the space, " answer")
// or capitalised at a line start ("Response"). Words after any other character (a quote, a dash)
// are never counted, so a quoted word ('house') stays letters that can be spelled and reversed
// by copying. Most frequent first; ties in byte order.
Result<std::vector<std::string>> frequent_words(const std::string & text_path, int n, long max_lines);

// Pieces, scores and types (1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte) of a model.
Result<Vocab> load_vocab(const std::string & model_path);

// Appends user-defined pieces (type 4, score 0) after v's own, so every existing id keeps its
// meaning and a model trained on v can grow into the new vocab. A piece already in v, empty, or
// given twice is an error.
Status append_user_pieces(Vocab & v, const std::vector<std::string> & pieces);

// A vocab-only GGUF ("llama" architecture with minimal hyper-parameters and no tensors) that
// llama.cpp loads with vocab_only = true; carries the ChatML chat template.
Status write_vocab_gguf(const std::string & path, const Vocab & v);

Result<std::vector<std::vector<int>>> encode(const std::string & model_path, const std::vector<std::string> & texts);

}  // namespace grm::spm
