// Reads a grm::Vocab (pieces, scores, types, special ids) from a GGUF file or a JSON file, for export.
#pragma once

#include "core/error.h"
#include "gguf/gguf_llama.h"

#include <string>

namespace grm::model {

// ".gguf": the tokenizer.ggml.* keys of any llama-vocab GGUF (vocab-only or full model).
// ".json": {"pieces": [...], "scores": [...], "types": [...], "bos_id", "eos_id", "unk_id",
// "pad_id", "add_bos"} (ids optional, defaults as in grm::Vocab).
Result<Vocab> load_vocab(const std::string & path);
Status        save_vocab_json(const std::string & path, const Vocab & v);

}  // namespace grm::model
