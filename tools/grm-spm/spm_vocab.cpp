// SentencePiece training, vocab conversion and encoding for grm-spm.
#include "spm_vocab.h"

#include "core/chatml.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

namespace grm::spm {

const std::vector<std::string> k_special_pieces = { k_chatml_begin, k_chatml_end };

Status train_bpe(const TrainOptions & o) {
    std::string symbols;
    for (size_t i = 0; i < k_special_pieces.size(); i++) symbols += (i ? "," : "") + k_special_pieces[i];
    // identity normalization and kept whitespace: llama.cpp's SPM tokenizer normalizes nothing,
    // so any SentencePiece normalization would make the two disagree.
    std::string args = "--input=" + o.input + " --model_prefix=" + o.model_prefix + " --vocab_size=" + std::to_string(o.vocab_size) +
                       " --model_type=bpe --byte_fallback=true --normalization_rule_name=identity"
                       " --remove_extra_whitespaces=false --split_digits=true --character_coverage=1.0"
                       " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --max_sentence_length=65536"
                       " --hard_vocab_limit=false --minloglevel=1 --user_defined_symbols=" + symbols +
                       " --num_threads=" + std::to_string(std::max(1, o.threads));
    if (o.single_chars) args += " --max_sentencepiece_length=1";
    if (o.max_lines > 0) args += " --input_sentence_size=" + std::to_string(o.max_lines) + " --shuffle_input_sentence=false";
    const auto st = sentencepiece::SentencePieceTrainer::Train(args);
    if (!st.ok()) return make_error(Errc::invalid_argument, "SentencePiece training failed: " + std::string(st.message()));
    return ok_status();
}

Result<std::vector<std::string>> frequent_words(const std::string & text_path, int n, long max_lines) {
    std::ifstream in(text_path);
    if (!in) return make_error(Errc::not_found, "cannot open '" + text_path + "'");
    std::map<std::string, long> count;
    long                        lines = 0;
    for (std::string line; std::getline(in, line) && (max_lines <= 0 || lines < max_lines); lines++) {
        for (size_t i = 0; i < line.size();) {
            if (!std::isalpha((unsigned char) line[i])) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < line.size() && std::isalpha((unsigned char) line[j])) j++;
            const bool after_space = i > 0 && line[i - 1] == ' ';
            const bool capitalised = i == 0 && std::isupper((unsigned char) line[0]) &&
                                     std::all_of(line.begin() + 1, line.begin() + (long) j, [](char c) { return std::islower((unsigned char) c); });
            if (j - i >= 2 && (after_space || capitalised)) count[(after_space ? " " : "") + line.substr(i, j - i)]++;
            i = j;
        }
    }
    std::vector<std::pair<long, std::string>> ranked;
    for (const auto & [w, c] : count) ranked.emplace_back(-c, w);
    std::sort(ranked.begin(), ranked.end());
    std::vector<std::string> out;
    for (size_t k = 0; k < ranked.size() && (int) k < n; k++) out.push_back(ranked[k].second);
    return out;
}

Result<Vocab> load_vocab(const std::string & model_path) {
    sentencepiece::SentencePieceProcessor sp;
    if (const auto st = sp.Load(model_path); !st.ok()) {
        return make_error(Errc::not_found, "cannot load SentencePiece model '" + model_path + "': " + std::string(st.message()));
    }
    Vocab v;
    for (int i = 0; i < sp.GetPieceSize(); i++) {
        const std::string & piece = sp.IdToPiece(i);
        int                 type  = 1;
        if (sp.IsUnknown(i)) type = 2;
        else if (sp.IsControl(i)) type = 3;
        else if (sp.IsUnused(i)) type = 5;
        else if (sp.IsByte(i)) type = 6;
        else if (std::find(k_special_pieces.begin(), k_special_pieces.end(), piece) != k_special_pieces.end()) type = 4;
        v.pieces.push_back(piece);
        v.scores.push_back(sp.GetScore(i));
        v.types.push_back(type);
    }
    v.unk_id = sp.unk_id();
    v.bos_id = sp.bos_id();
    v.eos_id = sp.eos_id();
    v.pad_id = sp.pad_id();
    return v;
}

Status append_user_pieces(Vocab & v, const std::vector<std::string> & pieces) {
    for (const auto & p : pieces) {
        if (p.empty()) return make_error(Errc::invalid_argument, "an appended piece is empty");
        if (std::find(v.pieces.begin(), v.pieces.end(), p) != v.pieces.end())
            return make_error(Errc::invalid_argument, "appended piece '" + p + "' is already in the vocab");
        v.pieces.push_back(p);
        v.scores.push_back(0.0f);
        v.types.push_back(4);
    }
    return ok_status();
}

Status write_vocab_gguf(const std::string & path, const Vocab & v) {
    GgufLlamaModel m;
    m.name             = "grm-tokenizer";
    m.vocab            = v;
    m.chat_template    = k_chatml_template;
    m.config.n_vocab   = (int) v.pieces.size();
    m.config.n_ctx     = 512;
    m.config.n_embd    = 64;
    m.config.n_layer   = 1;
    m.config.n_head    = 1;
    m.config.n_head_kv = 1;
    m.config.n_ff      = 64;
    return write_gguf_llama(path, m);
}

Result<std::vector<std::vector<int>>> encode(const std::string & model_path, const std::vector<std::string> & texts) {
    sentencepiece::SentencePieceProcessor sp;
    if (const auto st = sp.Load(model_path); !st.ok()) {
        return make_error(Errc::not_found, "cannot load SentencePiece model '" + model_path + "': " + std::string(st.message()));
    }
    std::vector<std::vector<int>> out;
    for (const auto & t : texts) {
        std::vector<int> ids;
        if (const auto st = sp.Encode(t, &ids); !st.ok()) {
            return make_error(Errc::invalid_argument, "encode failed: " + std::string(st.message()));
        }
        out.push_back(std::move(ids));
    }
    return out;
}

}  // namespace grm::spm
